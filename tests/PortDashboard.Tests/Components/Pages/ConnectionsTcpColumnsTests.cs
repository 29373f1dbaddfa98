using AngleSharp.Dom;
using Bunit;
using PortDashboard.Components;
using PortDashboard.Components.Controls;
using PortDashboard.Components.Pages;
using PortDashboard.Core.Sockets;
using PortDashboard.Tests.Components.Support;
using static PortDashboard.Tests.Components.Support.TestSockets;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Tests.Components.Pages;

/// <summary>The TCP columns (throughput, rtt, retransmits) behind the column picker, and the Top talkers card.</summary>
public sealed class ConnectionsTcpColumnsTests : DashboardTestContext
{
    private static readonly ProcessInfo Nginx = Process("nginx", 700);
    private static readonly ProcessInfo Curl = Process("curl", 4300);

    private static Socket WithCounters(Socket socket, ulong received, ulong acked, uint rttMicroseconds = 250, uint retransmits = 0) =>
        new(socket.Protocol, socket.Family, socket.Local, socket.Remote, socket.State, socket.Inode, socket.Uid,
            socket.TransmitQueue, socket.ReceiveQueue, socket.Owners,
            new TcpInfo(rttMicroseconds, 100, 10, retransmits, 0, acked, received, acked, 1_000_000));

    private readonly Socket _server = Tcp("127.0.0.1:8080", "127.0.0.1:51000", SocketState.Established, Nginx);
    private readonly Socket _client = Tcp("127.0.0.1:51000", "127.0.0.1:8080", SocketState.Established, Curl);

    /// <summary>Two polls a second apart: the server received 50 kB and sent 2 kB; the client received those 2 kB and sent 10 kB.</summary>
    private (Snapshot First, Snapshot Second) TwoPolls()
    {
        var first = Snapshot(Start, WithCounters(_server, 0, 0), WithCounters(_client, 0, 0));
        Socket[] now = [WithCounters(_server, 50_000, 2000, rttMicroseconds: 1500, retransmits: 3), WithCounters(_client, 2000, 10_000)];
        var second = new Snapshot([.. now], Start.AddSeconds(1), TimeSpan.FromMilliseconds(3), "netlink", first.Attribution, first.PortPolicy, HostName)
        {
            Traffic = TrafficRates.Between(first, now, Start.AddSeconds(1)),
        };
        return (first, second);
    }

    private static List<IElement> Rows(IRenderedComponent<Connections> page) =>
        page.FindAll(".socket-grid tbody tr.mud-table-row").Where(r => r.QuerySelector(".col-proto") is not null).ToList();

    [Fact]
    public void The_tcp_columns_are_hidden_until_picked_and_then_show_each_rows_figures()
    {
        Feed.SetCurrent(TwoPolls().Second);
        var page = Render<Connections>();
        page.WaitForAssertion(() => Assert.Equal(2, Rows(page).Count), WaitTimeout);
        Assert.Empty(page.FindAll("th.col-throughput"));
        Assert.Empty(page.FindAll("td.col-rtt"));

        page.Find(".column-picker [data-column=throughput]").Click();
        page.Find(".column-picker [data-column=rtt]").Click();
        page.Find(".column-picker [data-column=retransmits]").Click();

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("td.col-throughput")), WaitTimeout);
        var server = Rows(page).Single(r => r.TextContent.Contains("nginx", StringComparison.Ordinal));
        Assert.Equal("↓ 50 KB/s ↑ 2 KB/s", server.QuerySelector("td.col-throughput")!.TextContent.Trim());
        Assert.Equal("1.5 ms", server.QuerySelector("td.col-rtt")!.TextContent.Trim());
        Assert.Equal("3", server.QuerySelector("td.col-retransmits")!.TextContent.Trim());
    }

    [Fact]
    public void On_the_first_poll_and_without_counters_the_figures_say_unknown_not_zero()
    {
        Feed.SetCurrent(Snapshot(Start, WithCounters(_server, 9_000_000, 9_000_000), _client));
        var page = Render<Connections>();
        page.WaitForAssertion(() => Assert.Equal(2, Rows(page).Count), WaitTimeout);

        page.Find(".column-picker [data-column=throughput]").Click();
        page.Find(".column-picker [data-column=rtt]").Click();

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("td.col-throughput")), WaitTimeout);
        Assert.All(Rows(page), row => Assert.Equal("–", row.QuerySelector("td.col-throughput")!.TextContent.Trim()));
        var client = Rows(page).Single(r => r.TextContent.Contains("curl", StringComparison.Ordinal));
        Assert.Equal("–", client.QuerySelector("td.col-rtt")!.TextContent.Trim());
        Assert.Contains("second poll", page.Find(".top-talkers").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Counters_that_move_update_the_row_without_marking_it_changed()
    {
        var (first, second) = TwoPolls();
        Feed.SetCurrent(first);
        var page = Render<Connections>();
        page.WaitForAssertion(() => Assert.Equal(2, Rows(page).Count), WaitTimeout);
        page.Find(".column-picker [data-column=throughput]").Click();

        var delta = Feed.Publish(second);

        Assert.True(delta.IsEmpty, "counters alone are no change for the delta");
        await Feed.WaitForConsumedAsync(2, WaitTimeout);
        Time.Advance(LiveFeedComponent.MinRefreshInterval);
        page.WaitForAssertion(() =>
        {
            var server = Rows(page).Single(r => r.TextContent.Contains("nginx", StringComparison.Ordinal));
            Assert.Equal("↓ 50 KB/s ↑ 2 KB/s", server.QuerySelector("td.col-throughput")!.TextContent.Trim());
            Assert.DoesNotContain("row-changed", server.ClassList);
        }, WaitTimeout);
    }

    [Fact]
    public void Top_talkers_lists_the_busiest_processes_and_connections_first()
    {
        var card = Render<TopTalkers>(p => p.Add(c => c.Snapshot, TwoPolls().Second));

        var processes = card.FindAll(".processes .talker");
        Assert.Equal(2, processes.Count);
        Assert.Equal(["700", "4300"], processes.Select(p => p.GetAttribute("data-pid")));
        Assert.Equal("↓ 50 KB/s ↑ 2 KB/s", processes[0].QuerySelector(".rate")!.TextContent.Trim());
        Assert.Equal("↓ 2 KB/s ↑ 10 KB/s", processes[1].QuerySelector(".rate")!.TextContent.Trim());
        var connections = card.FindAll(".connections .talker-connection");
        Assert.Equal(2, connections.Count);
        Assert.StartsWith("127.0.0.1:8080", connections[0].QuerySelector(".name")!.TextContent.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public void Top_talkers_says_why_when_the_reader_has_no_counters()
    {
        var card = Render<TopTalkers>(p => p.Add(c => c.Snapshot, Snapshot(Start, _server, _client)));

        Assert.Contains("no TCP counters", card.Find(".no-rates").TextContent, StringComparison.Ordinal);
    }
}
