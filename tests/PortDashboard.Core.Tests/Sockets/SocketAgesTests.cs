using System.Collections.Immutable;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Core.Tests.Sockets;

/// <summary>First-seen times as the service records them snapshot after snapshot.</summary>
public class SocketAgesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);

    private static Socket Listener(int port, long inode) =>
        new(TransportProtocol.Tcp, IpVersion.IPv4, new Endpoint(NetAddress.FromIPv4(0x7F000001), port), new Endpoint(NetAddress.AnyV4, 0), SocketState.Listen, inode, 0);

    private static Snapshot At(DateTimeOffset takenAt, params Socket[] sockets) =>
        new([.. sockets], takenAt, TimeSpan.FromMilliseconds(1), "test", AttributionStatus.Unavailable("test"), OsPortPolicy.LinuxDefault, "host");

    [Fact]
    public void The_first_snapshot_is_seen_at_start_later_sockets_at_their_delta_and_closed_ones_are_forgotten()
    {
        var a = Listener(22, 1);
        var b = Listener(40000, 2);
        var ages = new SocketAges();
        var first = At(T0, a);
        ages.Record(first, Delta.Between(Snapshot.Empty, first));
        var second = At(T0.AddSeconds(5), a, b);
        ages.Record(second, Delta.Between(first, second));
        var third = At(T0.AddSeconds(9), b);
        ages.Record(third, Delta.Between(second, third));

        Assert.Equal(T0, ages.StartedAt);
        Assert.True(ages.TryGet(b.Key, out var age));
        Assert.Equal(new SocketAge(T0.AddSeconds(5), SeenAtStart: false), age);
        Assert.False(ages.TryGet(a.Key, out _));
        Assert.Equal(1, ages.Count);

        // Open again under the same key: a new socket, first seen now.
        var fourth = At(T0.AddSeconds(12), a, b);
        ages.Record(fourth, Delta.Between(third, fourth));
        Assert.True(ages.TryGet(a.Key, out var again));
        Assert.Equal(new SocketAge(T0.AddSeconds(12), SeenAtStart: false), again);
    }

    [Fact]
    public void A_changed_socket_keeps_its_first_seen_time()
    {
        var owner = new ProcessInfo(10, 1, "app", 0, "root");
        var listener = Listener(8080, 3);
        var ages = new SocketAges();
        var first = At(T0, listener);
        ages.Record(first, Delta.Between(Snapshot.Empty, first));
        var owned = At(T0.AddSeconds(3), listener.WithOwners(ImmutableArray.Create(owner)));
        var delta = Delta.Between(first, owned);
        ages.Record(owned, delta);

        Assert.Single(delta.Changed);
        Assert.True(ages.TryGet(listener.Key, out var age));
        Assert.Equal(new SocketAge(T0, SeenAtStart: true), age);
    }

    [Fact]
    public void Restored_first_seen_times_apply_to_sockets_of_the_first_snapshot_only_and_only_when_earlier_whichever_comes_first()
    {
        var kept = Listener(22, 1);
        var later = Listener(80, 2);
        var gone = Listener(443, 3);
        var newer = Listener(8080, 4);
        KeyValuePair<SocketKey, DateTimeOffset>[] history =
        [
            KeyValuePair.Create(kept.Key, T0.AddHours(-3)),
            KeyValuePair.Create(gone.Key, T0.AddHours(-2)),
            KeyValuePair.Create(newer.Key, T0.AddHours(1)), // a clock that went back: never later than this run's sight
            KeyValuePair.Create(later.Key, T0.AddHours(-1)),
        ];

        foreach (var restoreFirst in new[] { true, false })
        {
            var ages = new SocketAges();
            var first = At(T0, kept, newer);
            if (restoreFirst)
            {
                ages.Restore(history);
            }

            ages.Record(first, Delta.Between(Snapshot.Empty, first));
            if (!restoreFirst)
            {
                ages.Restore(history);
            }

            var second = At(T0.AddSeconds(5), kept, newer, later);
            ages.Record(second, Delta.Between(first, second));

            Assert.True(ages.TryGet(kept.Key, out var age));
            Assert.Equal(new SocketAge(T0.AddHours(-3), SeenAtStart: true), age);
            Assert.True(ages.TryGet(newer.Key, out age));
            Assert.Equal(new SocketAge(T0, SeenAtStart: true), age);
            Assert.True(ages.TryGet(later.Key, out age));
            Assert.Equal(new SocketAge(T0.AddSeconds(5), SeenAtStart: false), age); // not open at this run's start
            Assert.False(ages.TryGet(gone.Key, out _));
            Assert.Equal(T0, ages.StartedAt);
        }
    }
}
