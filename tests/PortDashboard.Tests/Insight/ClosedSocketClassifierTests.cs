using PortDashboard.Core.Reading.Netlink;
using PortDashboard.Core.Sockets;
using PortDashboard.Insight.ShortLived;
using static PortDashboard.Tests.Components.Support.TestSockets;

namespace PortDashboard.Tests.Insight;

/// <summary>Whether a socket seen closing had been seen open, and who held it.</summary>
public sealed class ClosedSocketClassifierTests
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly ProcessInfo Api = Process("api", 4100);
    private static readonly ProcessInfo Nginx = Process("nginx", 800);
    private static readonly Core.Ports.OsPortPolicy Policy = Core.Ports.OsPortPolicy.LinuxDefault;

    private static DestroyedSocket Destroyed(string local, string remote) =>
        new(Tcp(local, remote, SocketState.Close), T0.AddMilliseconds(500));

    [Fact]
    public void A_socket_a_snapshot_showed_open_is_not_short_lived_and_keeps_the_owner_it_had_then()
    {
        var classifier = new ClosedSocketClassifier();
        var open = Tcp("10.0.0.1:40001", "10.0.0.5:5432", SocketState.Established, Api);
        var other = Tcp("10.0.0.1:40009", "10.0.0.5:5432", SocketState.Established, Api);
        // By the next poll its process closed it: an orphan in FIN-WAIT-2, no owner, inode 0. The other one just closed.
        var orphan = Tcp("10.0.0.1:40001", "10.0.0.5:5432", SocketState.FinWait2);
        var (before, after) = (Snapshot(T0, open, other), Snapshot(T0.AddSeconds(1), orphan));
        var live = LiveConnections.Of(before);
        live.Apply(Delta.Between(before, after));
        classifier.LearnOrphans(Delta.Between(before, after), live);
        Assert.Equal(1, classifier.RememberedOrphans); // the orphan's owner only

        var destroyed = Destroyed("10.0.0.1:40001", "10.0.0.5:5432");
        var closed = classifier.Classify(destroyed, live.Full(destroyed.Socket), LiveConnections.Of(Snapshot(T0.AddSeconds(2))), Policy);

        Assert.False(closed.ShortLived);
        Assert.Equal((Api, OwnerSource.Seen), (closed.Owner, closed.OwnerSource));
        Assert.Equal(0, classifier.RememberedOrphans); // destroyed: forgotten
    }

    [Fact]
    public void A_server_side_socket_never_seen_is_short_lived_and_owned_by_the_listener_that_accepted_it()
    {
        var classifier = new ClosedSocketClassifier();
        var current = LiveConnections.Of(Snapshot(T0.AddSeconds(1), Listener("0.0.0.0:443", Nginx)));

        var closed = classifier.Classify(Destroyed("10.0.0.1:443", "203.0.113.9:51000"), null, current, Policy);

        Assert.True(closed.ShortLived);
        Assert.Equal((Nginx, OwnerSource.Listener), (closed.Owner, closed.OwnerSource));
    }

    [Fact]
    public void A_client_socket_never_seen_gets_the_likely_owner_of_earlier_connections_to_its_destination_or_none()
    {
        var classifier = new ClosedSocketClassifier();
        classifier.Learn([Tcp("10.0.0.1:40001", "10.0.0.5:5432", SocketState.Established, Api)], Core.Ports.OsPortPolicy.LinuxDefault);
        var empty = LiveConnections.Of(Snapshot(T0));

        var likely = classifier.Classify(Destroyed("10.0.0.1:40002", "10.0.0.5:5432"), null, empty, Policy);
        var unknown = classifier.Classify(Destroyed("10.0.0.1:40003", "10.0.0.6:6379"), null, empty, Policy);

        Assert.Equal((true, Api, OwnerSource.SameDestination), (likely.ShortLived, likely.Owner, likely.OwnerSource));
        Assert.Equal((true, (ProcessInfo?)null, OwnerSource.None), (unknown.ShortLived, unknown.Owner, unknown.OwnerSource));
    }

    [Fact]
    public void A_time_wait_socket_is_not_an_open_one_and_the_connections_follow_the_deltas()
    {
        var waiting = Tcp("10.0.0.1:40001", "10.0.0.5:5432", SocketState.TimeWait);
        var open = Tcp("10.0.0.1:40002", "10.0.0.5:5432", SocketState.Established, Api);
        var before = Snapshot(T0, waiting);
        var after = Snapshot(T0.AddSeconds(1), waiting, open);
        var live = LiveConnections.Of(before);
        Assert.Null(live.Full(waiting)); // only its TIME_WAIT trace: the connection itself was never seen open

        live.Apply(Delta.Between(before, after));
        Assert.Same(open, live.Full(open));
        var gone = Snapshot(T0.AddSeconds(2), waiting);
        live.Apply(Delta.Between(after, gone));
        Assert.Null(live.Full(open));
        Assert.Equal(0, live.Count);
    }
}
