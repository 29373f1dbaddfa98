using Microsoft.Extensions.Time.Testing;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Sockets;
using PortDashboard.Core.Tests.Support;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Core.Tests.Reading;

/// <summary>A snapshot's table, owners and metadata, over a proc root built at test time.</summary>
public sealed class SnapshotterTests : IDisposable
{
    private const int Listen = 0x0A;
    private const int Established = 0x01;
    private const int TimeWait = 0x06;

    private static readonly DateTimeOffset Start = new(2026, 11, 28, 9, 30, 0, TimeSpan.Zero);

    private readonly FakeProcTree _tree = new();
    private readonly FakeTimeProvider _time = new(Start);

    public SnapshotterTests()
    {
        _tree.WriteNetTcp(
            FakeProcTree.TcpLine(0, "127.0.0.1", 8080, "0.0.0.0", 0, Listen, inode: 5000),
            FakeProcTree.TcpLine(1, "127.0.0.1", 8080, "127.0.0.1", 40000, Established, inode: 5001),
            FakeProcTree.TcpLine(2, "127.0.0.1", 40001, "127.0.0.1", 8080, TimeWait, inode: 0),
            "   3: this line is not a socket");
        _tree.WriteFile("sys/kernel/hostname", "fake-host\n");
        _tree.WriteFile("sys/net/ipv4/ip_local_port_range", "40000\t50000\n");
        _tree.WriteFile("sys/net/ipv4/ip_unprivileged_port_start", "80\n");
        _tree.AddProcess(100, "master").AddSocket(100, 3, 5000).AddSocket(100, 4, 5001);
        _tree.AddProcess(200, "worker").AddSocket(200, 3, 5001);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _tree.Dispose();

    private Snapshotter Snapshotter(bool attributeOwners = true) =>
        Core.Reading.Snapshotter.CreateDefault(
            new SnapshotterOptions { ProcRoot = _tree.Root, AttributeOwners = attributeOwners, PasswdPath = _tree.PathOf("passwd") },
            _time);

    [Fact]
    public void The_metadata_says_when_how_long_which_reader_which_host_and_which_port_policy()
    {
        var snapshot = Snapshotter().Take(Ct);

        Assert.Equal(Start, snapshot.TakenAt);
        Assert.True(snapshot.Duration > TimeSpan.Zero, "reading files takes some real time, whatever the injected clock says");
        Assert.Equal("proc-net", snapshot.Reader);
        Assert.Equal("fake-host", snapshot.HostName);
        Assert.Equal((40000, 50000, 80), (snapshot.PortPolicy.EphemeralFirst, snapshot.PortPolicy.EphemeralLast, snapshot.PortPolicy.UnprivilegedPortStart));
        Assert.Equal(3, snapshot.Count);
        Assert.Equal(1, snapshot.MalformedLines);
    }

    [Fact]
    public void The_malformed_line_is_kept_for_the_log()
    {
        var snapshotter = Snapshotter();

        snapshotter.Take(Ct);

        var sample = Assert.Single(snapshotter.LastMalformed.Samples);
        Assert.Contains("this line is not a socket", sample, StringComparison.Ordinal);
    }

    [Fact]
    public void TakenAt_follows_the_injected_clock()
    {
        var snapshotter = Snapshotter();

        var first = snapshotter.Take(Ct);
        _time.Advance(TimeSpan.FromSeconds(5));
        var second = snapshotter.Take(Ct);

        Assert.Equal(Start.AddSeconds(5), second.TakenAt);
        Assert.Equal(TimeSpan.FromSeconds(5), second.TakenAt - first.TakenAt);
    }

    [Fact]
    public void Sockets_carry_their_owners_and_TIME_WAIT_has_none_without_making_attribution_partial()
    {
        var snapshot = Snapshotter().Take(Ct);

        Assert.Equal(["master"], Find(snapshot, 5000).Owners.Select(p => p.Name));
        Assert.Equal([100, 200], Find(snapshot, 5001).Owners.Select(p => p.Pid));
        var timeWait = Assert.Single(snapshot.Sockets, s => s.State == SocketState.TimeWait);
        Assert.Empty(timeWait.Owners);
        Assert.Equal(AttributionStatus.FromScan(2, 0, 0, null), snapshot.Attribution);
    }

    [Fact]
    public void One_process_is_one_instance_across_its_sockets_and_across_snapshots()
    {
        var snapshotter = Snapshotter();

        var first = snapshotter.Take(Ct);
        var second = snapshotter.Take(Ct);

        var master = Find(first, 5000).Owners[0];
        Assert.Same(master, Find(first, 5001).Owners[0]);
        Assert.Same(master, Find(second, 5000).Owners[0]);
        Assert.False(Find(first, 5001).DiffersFrom(Find(second, 5001)));
    }

    [Fact]
    public void A_process_that_could_not_be_read_makes_the_snapshot_partial_not_failed()
    {
        _tree.AddProcess(300);
        Directory.Delete(_tree.PathOf("300", "fd"));

        var snapshot = Snapshotter().Take(Ct);

        Assert.Equal(3, snapshot.Count);
        Assert.Equal((AttributionCompleteness.Partial, 1), (snapshot.Attribution.Completeness, snapshot.Attribution.ProcessesVanished));
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("blank")]
    public void Without_a_hostname_file_the_host_name_is_the_runtimes(string hostnameFile)
    {
        if (hostnameFile == "missing")
        {
            File.Delete(_tree.PathOf("sys", "kernel", "hostname"));
        }
        else
        {
            _tree.WriteFile("sys/kernel/hostname", " \n");
        }

        Assert.Equal(Environment.MachineName, Snapshotter().Take(Ct).HostName);
    }

    [Fact]
    public void Without_sysctl_files_the_port_policy_is_linuxs_default_and_says_so()
    {
        Directory.Delete(_tree.PathOf("sys", "net"), recursive: true);

        var policy = Snapshotter().Take(Ct).PortPolicy;

        Assert.Equal((32768, 60999, 1024), (policy.EphemeralFirst, policy.EphemeralLast, policy.UnprivilegedPortStart));
        Assert.Contains("ip_local_port_range", policy.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void Attribution_turned_off_is_unavailable_and_leaves_sockets_without_owners()
    {
        var snapshot = Snapshotter(attributeOwners: false).Take(Ct);

        Assert.Equal(AttributionStatus.Unavailable("process attribution is turned off"), snapshot.Attribution);
        Assert.All(snapshot.Sockets, s => Assert.Empty(s.Owners));
    }

    [Fact]
    public void A_reader_that_cannot_attribute_says_so_by_name()
    {
        var reader = new ReaderWithoutInodes();

        var snapshot = new Snapshotter(reader, new SnapshotterOptions { ProcRoot = _tree.Root }, _time).Take(Ct);

        Assert.Equal("no-inodes", snapshot.Reader);
        Assert.Equal(AttributionCompleteness.Unavailable, snapshot.Attribution.Completeness);
        Assert.Equal("the no-inodes reader cannot see which process owns a socket", snapshot.Attribution.Note);
        Assert.Equal(0, snapshot.MalformedLines);
    }

    [Fact]
    public void A_socket_a_reader_reuses_from_the_last_snapshot_is_copied_when_its_owners_change_never_changed_in_place()
    {
        var reader = new ReusingReader(new ProcNetReader(_tree.Root));
        var snapshotter = new Snapshotter(
            reader,
            new SnapshotterOptions { ProcRoot = _tree.Root, PasswdPath = _tree.PathOf("passwd"), FullAttributionInterval = TimeSpan.Zero },
            _time);
        var first = snapshotter.Take(Ct);
        Assert.Equal(["master", "worker"], Find(first, 5001).Owners.Select(o => o.Name));

        Directory.Delete(_tree.PathOf("200"), recursive: true); // the worker exits: 5001 is the master's alone
        var second = snapshotter.Take(Ct);

        Assert.True(reader.Reused >= 3, "the reader handed back every unchanged row");
        Assert.Equal(["master", "worker"], Find(first, 5001).Owners.Select(o => o.Name)); // the first snapshot is untouched
        Assert.Equal(["master"], Find(second, 5001).Owners.Select(o => o.Name));
        Assert.NotSame(Find(first, 5001), Find(second, 5001));
        Assert.Same(Find(first, 5000), Find(second, 5000)); // same owners: the same instance
        var delta = Delta.Between(first, second);
        Assert.Equal([5001L], delta.Changed.Select(c => c.After.Inode));
        Assert.Throws<InvalidOperationException>(() => Find(second, 5000).AttachOwners([]));
    }

    [Fact]
    public void A_full_scan_left_for_after_publishing_runs_when_asked_and_its_correction_shows_in_the_next_snapshot()
    {
        var snapshotter = Core.Reading.Snapshotter.CreateDefault(
            new SnapshotterOptions { ProcRoot = _tree.Root, PasswdPath = _tree.PathOf("passwd"), FullAttributionAfterPublish = true },
            _time);
        snapshotter.Take(Ct);
        Assert.True(snapshotter.LastAttributionScan!.Value.Full, "the first snapshot has nothing to start from");
        Assert.False(snapshotter.RunDueFullAttribution(Ct), "not due: it just ran");

        // The worker receives the master's 5000 over a unix socket (no new socket, no new process): only a full scan sees that.
        _tree.AddSocket(200, 4, 5000);
        _time.Advance(TimeSpan.FromSeconds(11));
        var due = snapshotter.Take(Ct);

        Assert.False(snapshotter.LastAttributionScan!.Value.Full, "the due full scan waits for after publishing");
        Assert.Equal(["master"], Find(due, 5000).Owners.Select(o => o.Name));
        Assert.True(snapshotter.RunDueFullAttribution(Ct));
        Assert.True(snapshotter.LastAttributionScan!.Value.Full);
        Assert.False(snapshotter.RunDueFullAttribution(Ct), "once per interval");

        var next = snapshotter.Take(Ct);
        Assert.Equal(["master", "worker"], Find(next, 5000).Owners.Select(o => o.Name));
        Assert.False(snapshotter.LastAttributionScan!.Value.Full);
    }

    [Fact]
    public void Without_after_publishing_a_due_full_scan_runs_inside_the_snapshot()
    {
        var snapshotter = Snapshotter();
        snapshotter.Take(Ct);
        File.Delete(_tree.PathOf("200", "fd", "3"));
        _time.Advance(TimeSpan.FromSeconds(11));

        var due = snapshotter.Take(Ct);

        Assert.True(snapshotter.LastAttributionScan!.Value.Full);
        Assert.Equal(["master"], Find(due, 5001).Owners.Select(o => o.Name));
        Assert.False(snapshotter.RunDueFullAttribution(Ct), "nothing left for after publishing");
    }

    private static Socket Find(Snapshot snapshot, long inode) => Assert.Single(snapshot.Sockets, s => s.Inode == inode);

    /// <summary>Hands back the previous snapshot's instance of every row whose fields are unchanged, as the netlink reader does.</summary>
    private sealed class ReusingReader(ISocketTableReader inner) : IReusingSocketTableReader
    {
        public int Reused { get; private set; }

        public string Name => inner.Name;

        public bool SupportsAttribution => inner.SupportsAttribution;

        public SocketTableRead Read(CancellationToken cancellationToken = default) => inner.Read(cancellationToken);

        public SocketTableRead ReadReusing(Snapshot previous, CancellationToken cancellationToken = default)
        {
            var read = inner.Read(cancellationToken);
            Reused = 0;
            for (var i = 0; i < read.Sockets.Count; i++)
            {
                var socket = read.Sockets[i];
                if (previous.TryGet(socket, out var before) && before.State == socket.State && before.Uid == socket.Uid
                    && before.TransmitQueue == socket.TransmitQueue && before.ReceiveQueue == socket.ReceiveQueue)
                {
                    read.Sockets[i] = before;
                    Reused++;
                }
            }

            return read;
        }
    }

    /// <summary>Like the portable reader: sockets without inodes.</summary>
    private sealed class ReaderWithoutInodes : ISocketTableReader
    {
        public string Name => "no-inodes";

        public bool SupportsAttribution => false;

        public SocketTableRead Read(CancellationToken cancellationToken = default) =>
            new([new Socket(TransportProtocol.Tcp, IpVersion.IPv4, new Endpoint(NetAddress.AnyV4, 22), new Endpoint(NetAddress.AnyV4, 0), SocketState.Listen, 0, -1)], new MalformedInput());
    }
}
