using PortDashboard.Core.Filtering;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;
using PortDashboard.Model;
using PortDashboard.Monitoring;
using static PortDashboard.Tests.Components.Support.TestSockets;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Tests.Model;

/// <summary>Sorting the live table by throughput, rtt and retransmits, which move with every snapshot, not with the rows.</summary>
public sealed class SocketTableLiveFiguresTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 7, 2, 0, 0, TimeSpan.Zero);
    private static readonly ServiceNameRegistry NoNames = ServiceNameRegistry.Empty;

    private static Socket Counted(Socket socket, ulong received, uint rtt = 100, uint retransmits = 0) =>
        new(socket.Protocol, socket.Family, socket.Local, socket.Remote, socket.State, socket.Inode, socket.Uid, 0, 0, socket.Owners,
            new TcpInfo(rtt, 10, 10, retransmits, 0, 0, received, 0, null));

    private static Snapshot Next(Snapshot previous, int seconds, params Socket[] sockets) =>
        new([.. sockets], Start.AddSeconds(seconds), TimeSpan.Zero, "netlink", previous.Attribution, previous.PortPolicy, HostName)
        {
            Traffic = TrafficRates.Between(previous, sockets, Start.AddSeconds(seconds)),
        };

    [Fact]
    public void Sorting_by_throughput_follows_each_new_snapshot_and_puts_unknown_last()
    {
        var a = Tcp("127.0.0.1:1001", "127.0.0.1:80", SocketState.Established);
        var b = Tcp("127.0.0.1:1002", "127.0.0.1:80", SocketState.Established);
        var udp = Udp("127.0.0.1:53");
        var first = Snapshot(Start, Counted(a, 0), Counted(b, 0), udp);
        var table = new SocketTable();
        table.Apply(new FeedBatch(first, [], IsResync: true, 1), Start);
        var second = Next(first, 1, Counted(a, 1000), Counted(b, 5000), udp);
        table.Apply(new FeedBatch(second, [Delta.Between(first, second) with { Sequence = 2 }], IsResync: false, 2), Start);
        var busiest = new SocketSort(SocketSortColumn.Throughput, Descending: true);

        Assert.Equal([1002, 1001, 53], table.View(Filter.Empty, busiest, NoNames).Select(r => r.LocalPort));

        var third = Next(second, 2, Counted(a, 9000), Counted(b, 5000), udp);
        table.Apply(new FeedBatch(third, [Delta.Between(second, third) with { Sequence = 3 }], IsResync: false, 3), Start);

        Assert.Equal([1001, 1002, 53], table.View(Filter.Empty, busiest, NoNames).Select(r => r.LocalPort));
        Assert.Null(table.View(Filter.Empty, busiest, NoNames)[2].Throughput);
    }

    [Fact]
    public void The_grid_names_the_tcp_columns_for_sorting()
    {
        Assert.Equal(SocketSortColumn.Throughput, SocketSort.FromGrid(nameof(SocketRow.Throughput), true).Column);
        Assert.Equal(SocketSortColumn.Rtt, SocketSort.FromGrid(nameof(SocketRow.RttMs), false).Column);
        Assert.Equal(SocketSortColumn.Retransmits, SocketSort.FromGrid(nameof(SocketRow.Retransmits), false).Column);
    }

    [Fact]
    public void Sorting_by_rtt_and_retransmits_reads_the_latest_counters()
    {
        var a = Counted(Tcp("127.0.0.1:1001", "127.0.0.1:80", SocketState.Established), 0, rtt: 900, retransmits: 1);
        var b = Counted(Tcp("127.0.0.1:1002", "127.0.0.1:80", SocketState.Established), 0, rtt: 200, retransmits: 7);
        var table = new SocketTable();
        table.Apply(new FeedBatch(Snapshot(Start, a, b), [], IsResync: true, 1), Start);

        Assert.Equal([1002, 1001], table.View(Filter.Empty, new SocketSort(SocketSortColumn.Rtt, false), NoNames).Select(r => r.LocalPort));
        Assert.Equal([1002, 1001], table.View(Filter.Empty, new SocketSort(SocketSortColumn.Retransmits, true), NoNames).Select(r => r.LocalPort));
    }
}
