using PortDashboard.Core.Reading;
using PortDashboard.Core.Reading.Namespaces;
using PortDashboard.Core.Sockets;
using PortDashboard.Core.Tests.Support;

namespace PortDashboard.Core.Tests.Reading.Namespaces;

/// <summary>
/// Namespace enumeration and the <c>/proc/&lt;pid&gt;/net</c> way of reading them, on a proc tree built for the test:
/// <c>ns/net</c> links (dangling, as nsfs links look from outside), one process per namespace with its own tables, a
/// namespace whose tables are gone (its process vanished between the listing and the read), and the host's.
/// </summary>
public sealed class NamespaceTreeTests : IDisposable
{
    private const long HostInode = 4026531840;
    private const long WebInode = 4026532001;
    private const long GoneInode = 4026532002;
    private const string Header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

    private readonly FakeProcTree _proc = new();
    private readonly string _runNetns = Directory.CreateTempSubdirectory("portdashboard-netns-").FullName;

    public NamespaceTreeTests()
    {
        Link("self", HostInode);
        // The host's table and a namespace's both hold a listener on 127.0.0.1:80 and a TIME_WAIT with one four-tuple.
        _proc.WriteNetTcp(
            FakeProcTree.TcpLine(0, "127.0.0.1", 80, "0.0.0.0", 0, 0x0A, 1000),
            FakeProcTree.TcpLine(1, "127.0.0.1", 40000, "127.0.0.1", 80, 0x06, 0));
        _proc.AddProcess(500, "nginx");
        Link("500", WebInode);
        _proc.WriteFile("500/net/tcp", Header
            + FakeProcTree.TcpLine(0, "127.0.0.1", 80, "0.0.0.0", 0, 0x0A, 2000) + "\n"
            + FakeProcTree.TcpLine(1, "127.0.0.1", 40000, "127.0.0.1", 80, 0x06, 0) + "\n");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "cgroup", "docker-systemd-v2"), _proc.PathOf("500", "cgroup"));
        _proc.AddProcess(501, "nginx"); // the same namespace again: one table
        Link("501", WebInode);
        _proc.AddProcess(502, "gone");  // a namespace whose process's tables are not there any more
        Link("502", GoneInode);
        _proc.AddProcess(503, "sshd");  // in the host's namespace: not another one
        Link("503", HostInode);
        _proc.AddProcess(504, "kworker"); // no ns/net at all: skipped
    }

    private void Link(string pid, long inode)
    {
        Directory.CreateDirectory(_proc.PathOf(pid, "ns"));
        File.CreateSymbolicLink(_proc.PathOf(pid, "ns", "net"), $"net:[{inode}]");
    }

    [Fact]
    public void The_distinct_namespaces_other_than_the_hosts_are_listed_with_their_first_process_and_its_container()
    {
        var namespaces = new NetworkNamespaces(_proc.Root, _runNetns);

        Assert.Equal(HostInode, namespaces.HostInode());
        var found = namespaces.List(HostInode);

        Assert.Equal([WebInode, GoneInode], found.Select(n => n.Inode));
        Assert.Equal(500, found[0].Pid);
        Assert.Equal("docker:3f2a9c1b7d4e", found[0].Container);
        Assert.Equal($"net:[{WebInode}]", found[0].DisplayName);
        Assert.Null(found[1].Container);
    }

    [Fact]
    public void Each_namespace_is_read_from_its_process_and_tagged_and_a_vanished_one_is_skipped_with_the_reason()
    {
        using var reader = new NamespacedReader(new ProcNetReader(_proc.Root), new NetworkNamespaces(_proc.Root, _runNetns), NamespaceReaderKind.ProcNet);
        var snapshot = new Snapshotter(reader, new SnapshotterOptions { ProcRoot = _proc.Root, AttributeOwners = false }).Take(TestContext.Current.CancellationToken);

        Assert.Equal(4, snapshot.Count); // the TIME_WAITs share a four-tuple and inode 0, yet both are kept
        var host = snapshot.Sockets.Where(s => s.Namespace.IsHost).ToList();
        var web = snapshot.Sockets.Where(s => s.Namespace.Inode == WebInode).ToList();
        Assert.Equal(2, host.Count);
        Assert.Equal(2, web.Count);
        Assert.All(host, s => Assert.Equal(("host", HostInode, (string?)null), (s.Namespace.Name, s.Namespace.Inode, s.Container)));
        Assert.All(web, s => Assert.Equal(($"net:[{WebInode}]", "docker:3f2a9c1b7d4e"), (s.Namespace.Name, s.Container)));
        Assert.Equal(4, snapshot.Sockets.Select(s => s.Key).Distinct().Count());
        foreach (var socket in snapshot.Sockets)
        {
            Assert.True(snapshot.TryGet(socket.Key, out var found), $"{socket} is not found by its key");
            Assert.Same(socket, found);
        }

        Assert.Collection(
            reader.LastNamespaces,
            web => Assert.Equal(("proc-net", 2, (string?)null), (web.Reader, web.Sockets, web.Error)),
            gone =>
            {
                Assert.Equal(GoneInode, gone.Namespace.Inode);
                Assert.Null(gone.Reader);
                Assert.Contains("502/net/tcp cannot be read", gone.Error, StringComparison.Ordinal);
            });
    }

    [Fact]
    public void A_second_read_reuses_the_unchanged_sockets_of_every_namespace_and_a_namespace_gone_since_leaves()
    {
        using var reader = new NamespacedReader(new ProcNetReader(_proc.Root), new NetworkNamespaces(_proc.Root, _runNetns), NamespaceReaderKind.ProcNet);
        var snapshotter = new Snapshotter(reader, new SnapshotterOptions { ProcRoot = _proc.Root, AttributeOwners = false });
        var first = snapshotter.Take(TestContext.Current.CancellationToken);
        var second = snapshotter.Take(TestContext.Current.CancellationToken);

        Assert.Empty(Delta.Between(first, second).Added);
        Assert.All(second.Sockets, s => Assert.Contains(s, first.Sockets)); // the same instances: nothing to diff

        Directory.Delete(_proc.PathOf("500"), recursive: true);
        Directory.Delete(_proc.PathOf("501"), recursive: true);
        var third = snapshotter.Take(TestContext.Current.CancellationToken);

        var delta = Delta.Between(second, third);
        Assert.Equal(2, delta.Removed.Length);
        Assert.All(delta.Removed, s => Assert.Equal(WebInode, s.Namespace.Inode));
        Assert.All(third.Sockets, s => Assert.True(s.Namespace.IsHost));
    }

    [Fact]
    public void With_an_interval_the_namespaces_are_read_again_only_once_it_has_passed()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        using var reader = new NamespacedReader(new ProcNetReader(_proc.Root), new NetworkNamespaces(_proc.Root, _runNetns), NamespaceReaderKind.ProcNet,
            interval: TimeSpan.FromSeconds(5), time: time);
        var snapshotter = new Snapshotter(reader, new SnapshotterOptions { ProcRoot = _proc.Root, AttributeOwners = false }, time);
        var first = snapshotter.Take(TestContext.Current.CancellationToken);
        Assert.Equal(2, first.Sockets.Count(s => s.Namespace.Inode == WebInode));

        Directory.Delete(_proc.PathOf("500"), recursive: true);
        Directory.Delete(_proc.PathOf("501"), recursive: true);
        time.Advance(TimeSpan.FromSeconds(4));
        var within = snapshotter.Take(TestContext.Current.CancellationToken);
        Assert.Equal(first.Sockets.Where(s => s.Namespace.Inode == WebInode), within.Sockets.Where(s => s.Namespace.Inode == WebInode)); // as last read

        time.Advance(TimeSpan.FromSeconds(1));
        var due = snapshotter.Take(TestContext.Current.CancellationToken);
        Assert.DoesNotContain(due.Sockets, s => s.Namespace.Inode == WebInode);
        Assert.Equal(2, due.Sockets.Count(s => s.Namespace.IsHost));
    }

    public void Dispose()
    {
        _proc.Dispose();
        Directory.Delete(_runNetns, recursive: true);
    }
}
