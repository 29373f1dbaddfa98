using Microsoft.Extensions.Time.Testing;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Sockets;
using PortDashboard.Core.Tests.Support;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Core.Tests.Reading;

/// <summary>The snapshotter between full scans: its cadence, and unchanged sockets kept as the same instances.</summary>
public sealed class IncrementalSnapshotTests : IDisposable
{
    private const int Listen = 0x0A;
    private const int Established = 0x01;
    private const int CloseWait = 0x08;
    private const int TimeWait = 0x06;

    private readonly FakeProcTree _tree = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 28, 9, 30, 0, TimeSpan.Zero));

    public IncrementalSnapshotTests()
    {
        _tree.WriteFile("sys/kernel/hostname", "fake-host\n");
        _tree.AddProcess(100, "master").AddSocket(100, 3, 5000).AddSocket(100, 4, 5001);
        WriteTable(Established);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _tree.Dispose();

    private Snapshotter Snapshotter(TimeSpan fullAttributionInterval) =>
        new(
            new ProcNetReader(_tree.Root),
            new SnapshotterOptions { ProcRoot = _tree.Root, PasswdPath = _tree.PathOf("passwd"), FullAttributionInterval = fullAttributionInterval },
            _time);

    [Fact]
    public void Attribution_is_a_full_scan_first_and_then_once_per_interval_of_the_injected_clock()
    {
        var snapshotter = Snapshotter(TimeSpan.FromSeconds(10));
        var kinds = new List<bool>();
        foreach (var advance in (int[])[0, 1, 1, 7, 1, 1])
        {
            _time.Advance(TimeSpan.FromSeconds(advance));
            snapshotter.Take(Ct);
            kinds.Add(snapshotter.LastAttributionScan!.Value.Full);
        }

        // 0 s full, 1 s, 2 s, 9 s incremental, 10 s full, 11 s incremental.
        Assert.Equal([true, false, false, false, true, false], kinds);
    }

    [Fact]
    public void A_zero_interval_makes_every_attribution_a_full_scan()
    {
        var snapshotter = Snapshotter(TimeSpan.Zero);

        snapshotter.Take(Ct);
        snapshotter.Take(Ct);

        Assert.True(snapshotter.LastAttributionScan!.Value.Full);
    }

    [Fact]
    public void Unchanged_sockets_are_the_previous_snapshots_instances_and_changed_ones_are_new()
    {
        var snapshotter = Snapshotter(TimeSpan.FromSeconds(10));
        var first = snapshotter.Take(Ct);

        WriteTable(CloseWait); // socket 5001 changes state; the listener and the TIME_WAIT entry do not
        var second = snapshotter.Take(Ct);

        Assert.Same(Find(first, 5000), Find(second, 5000));
        Assert.Same(TimeWaitOf(first), TimeWaitOf(second));
        Assert.NotSame(Find(first, 5001), Find(second, 5001));
        Assert.Equal(SocketState.CloseWait, Find(second, 5001).State);
        var delta = Delta.Between(first, second);
        Assert.Equal(5001, Assert.Single(delta.Changed).After.Inode);
        Assert.True(delta.Added.IsEmpty && delta.Removed.IsEmpty);
    }

    [Fact]
    public void A_socket_whose_owners_changed_is_a_new_instance_with_them()
    {
        var snapshotter = Snapshotter(TimeSpan.FromSeconds(10));
        var first = snapshotter.Take(Ct);

        _tree.AddProcess(200, "child").AddSocket(200, 3, 5000); // a new process shares the listener
        var second = snapshotter.Take(Ct);

        Assert.NotSame(Find(first, 5000), Find(second, 5000));
        Assert.Equal([100, 200], Find(second, 5000).Owners.Select(p => p.Pid));
        Assert.Same(Find(first, 5001), Find(second, 5001));
    }

    private void WriteTable(int state) =>
        _tree.WriteNetTcp(
            FakeProcTree.TcpLine(0, "127.0.0.1", 8080, "0.0.0.0", 0, Listen, inode: 5000),
            FakeProcTree.TcpLine(1, "127.0.0.1", 8080, "127.0.0.1", 40000, state, inode: 5001),
            FakeProcTree.TcpLine(2, "127.0.0.1", 40001, "127.0.0.1", 8080, TimeWait, inode: 0));

    private static Socket Find(Snapshot snapshot, long inode) => Assert.Single(snapshot.Sockets, s => s.Inode == inode);

    private static Socket TimeWaitOf(Snapshot snapshot) => Assert.Single(snapshot.Sockets, s => s.State == SocketState.TimeWait);
}
