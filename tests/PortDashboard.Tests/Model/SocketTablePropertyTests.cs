using CsCheck;
using PortDashboard.Core.Sockets;
using PortDashboard.Core.Tests.Properties;
using PortDashboard.Model;
using PortDashboard.Monitoring;

namespace PortDashboard.Tests.Model;

/// <summary>The table a page keeps by applying the feed's deltas is the table a fresh resync would give.</summary>
public sealed class SocketTablePropertyTests
{
    [Fact]
    public void The_table_maintained_from_deltas_equals_the_snapshot()
    {
        Generators.Polls(8).Sample(polls =>
        {
            var snapshots = polls.Select((sockets, i) => Generators.Snapshot(Generators.T0.AddSeconds(i), sockets)).ToList();
            var table = new SocketTable();
            table.Apply(new FeedBatch(snapshots[0], [], IsResync: true, 1), Generators.T0);
            for (var i = 1; i < snapshots.Count; i++)
            {
                var delta = Delta.Between(snapshots[i - 1], snapshots[i]) with { Sequence = i + 1 };
                table.Apply(new FeedBatch(snapshots[i], [delta], IsResync: false, i + 1), snapshots[i].TakenAt);
            }

            var last = snapshots[^1];
            var fresh = new SocketTable();
            fresh.Apply(new FeedBatch(last, [], IsResync: true, snapshots.Count), last.TakenAt);

            // Every socket of the snapshot is a live row showing it; every other row is a closed one still highlighted.
            foreach (var socket in last.Sockets)
            {
                Assert.True(table.TryGetRow(socket.Key, out var row) && !row.IsRemoved, $"{socket} has no live row");
                Assert.False(row.Socket.DiffersFrom(socket), $"the row shows {row.Socket}, the snapshot {socket}");
            }

            foreach (var poll in polls)
            {
                foreach (var socket in poll)
                {
                    if (table.TryGetRow(socket.Key, out var row) && !row.IsRemoved)
                    {
                        Assert.True(last.Contains(socket.Key), $"{socket} is closed but its row is live");
                    }
                }
            }

            Assert.Equal(snapshots.Count, table.Sequence);
            Assert.Equal(Describe(fresh.Summary), Describe(table.Summary));
        }, iter: 500);
    }

    private static string Describe(SocketSummary s) =>
        $"{s.Total} [{string.Join(',', s.ByRange)}] tcp {s.Tcp} udp {s.Udp} listen {s.Listening} bound {s.UdpBound} est {s.Established} tw {s.TimeWait} eph {s.EphemeralPortsInUse}";
}
