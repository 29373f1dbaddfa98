using System.Collections.Immutable;
using PortDashboard.Api;
using PortDashboard.Core.Filtering;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;
using PortDashboard.Hubs;
using static PortDashboard.Tests.Support.TestSockets;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Tests.Hubs;

/// <summary>The hub's bounded cadence of moving counters: deltas leave them out, one delta every few seconds carries them.</summary>
public sealed class CounterUpdatesTests
{
    private static readonly WireMapper Mapper = new(ServiceNameRegistry.Empty, showCommandLine: false);
    private static readonly DateTimeOffset Start = new(2026, 12, 7, 2, 0, 0, TimeSpan.Zero);

    private readonly Socket _busy = Connection(40_000, 80, inode: 1);
    private readonly Socket _idle = Connection(40_001, 80, inode: 2);
    private readonly Socket _other = Connection(40_002, 443, inode: 3);

    private static Snapshot Poll(Snapshot previous, int second, params Socket[] sockets)
    {
        ImmutableArray<Socket> table = [.. sockets];
        return new Snapshot(table, Start.AddSeconds(second), TimeSpan.Zero, "netlink", previous.Attribution, previous.PortPolicy, "host")
        {
            Traffic = TrafficRates.Between(previous, table, Start.AddSeconds(second)),
        };
    }

    [Fact]
    public void Moving_connections_are_sent_at_most_every_interval_and_once_more_when_they_go_quiet()
    {
        var updates = new CounterUpdates(TimeSpan.FromSeconds(5));
        var first = SnapshotOf(Start, _busy.WithCounters(0, 0), _idle.WithCounters(0, 0), _other.WithCounters(0, 0));
        updates.Restart(first);
        var filter = Filter.Parse("port=80");

        var previous = first;
        for (var second = 1; second < 5; second++)
        {
            previous = Poll(previous, second, _busy.WithCounters((ulong)second * 1000, 0), _idle.WithCounters(0, 0), _other.WithCounters((ulong)second * 1000, 0));
            Assert.Null(updates.Next(previous, filter, Mapper)); // not due: the delta carries no counters
        }

        var due = Poll(previous, 5, _busy.WithCounters(5000, 0), _idle.WithCounters(0, 0), _other.WithCounters(5000, 0));
        var sent = updates.Next(due, filter, Mapper);

        var only = Assert.Single(sent!); // the idle one did not move; the moving one on port 443 is not in the filter
        Assert.Equal(WireMapper.Id(_busy.Key), only.Id);
        Assert.Equal(5000UL, only.Tcp.BytesReceived);
        Assert.Equal(1000, only.Tcp.ReceivedPerSecond);

        // It goes quiet: the next update reports it once at 0 B/s, then no more.
        var quiet = Poll(due, 10, _busy.WithCounters(5000, 0), _idle.WithCounters(0, 0), _other.WithCounters(5000, 0));
        Assert.Equal(0, Assert.Single(updates.Next(quiet, filter, Mapper)!).Tcp.ReceivedPerSecond);
        var still = Poll(quiet, 15, _busy.WithCounters(5000, 0), _idle.WithCounters(0, 0), _other.WithCounters(5000, 0));
        Assert.Empty(updates.Next(still, filter, Mapper)!);
    }
}
