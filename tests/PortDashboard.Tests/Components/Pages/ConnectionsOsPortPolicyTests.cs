using AngleSharp.Dom;
using Bunit;
using PortDashboard.Components.Pages;
using PortDashboard.Core.Sockets;
using PortDashboard.Tests.Components.Support;
using static PortDashboard.Tests.Components.Support.TestSockets;

namespace PortDashboard.Tests.Components.Pages;

/// <summary>
/// Both views of a port side by side (issue 11): IANA's class and what this machine's kernel does with it (Linux's
/// defaults here: ephemeral 32768–60999, privileged below 1024), and ages counted from the service's first sight.
/// </summary>
public sealed class ConnectionsOsPortPolicyTests : DashboardTestContext
{
    private static readonly ProcessInfo Sshd = Process("sshd", 812);
    private static readonly ProcessInfo App = Process("app", 4000, "alice", 1000);

    private readonly Core.Sockets.Socket _ssh = Listener("0.0.0.0:22", Sshd);

    // IANA registered, OS ephemeral: the two marks disagree.
    private readonly Core.Sockets.Socket _app = Listener("127.0.0.1:40000", App);

    // IANA ephemeral and OS ephemeral.
    private readonly Core.Sockets.Socket _high = Listener("127.0.0.1:50000", App);

    private Snapshot Initial => Snapshot(Start, _ssh, _app, _high);

    [Fact]
    public void A_listener_on_40000_shows_iana_registered_and_the_os_ephemeral_mark_with_this_machines_range()
    {
        Feed.SetCurrent(Initial);

        var page = Render<Connections>();

        page.WaitForAssertion(() => Assert.Equal(3, Rows(page).Count), WaitTimeout);
        var cell = LocalPortCell(page, 40000);
        Assert.Equal("Registered", cell.QuerySelector(".range-chip")!.TextContent.Trim());
        var mark = cell.QuerySelector(".os-mark.os-ephemeral");
        Assert.NotNull(mark);
        Assert.Contains("32768–60999", mark.GetAttribute("title"), StringComparison.Ordinal);
        Assert.Null(cell.QuerySelector(".os-privileged"));

        var ssh = LocalPortCell(page, 22);
        Assert.Equal("Well-known", ssh.QuerySelector(".range-chip")!.TextContent.Trim());
        Assert.Contains("below this machine's net.ipv4.ip_unprivileged_port_start 1024", ssh.QuerySelector(".os-privileged")!.GetAttribute("title"), StringComparison.Ordinal);
        Assert.Null(ssh.QuerySelector(".os-ephemeral"));

        // The two facts are independent: 50000 is ephemeral by both views and carries both.
        var high = LocalPortCell(page, 50000);
        Assert.Equal("Ephemeral", high.QuerySelector(".range-chip")!.TextContent.Trim());
        Assert.NotNull(high.QuerySelector(".os-ephemeral"));
    }

    [Fact]
    public void The_os_ephemeral_chip_keeps_40000_and_ianas_ephemeral_chip_drops_it()
    {
        Feed.SetCurrent(Initial);
        var page = Render<Connections>();
        page.WaitForAssertion(() => Assert.Equal(3, Rows(page).Count), WaitTimeout);

        page.Find(".os-filter [data-range=os-ephemeral]").Click();

        page.WaitForAssertion(() => Assert.Equal(["40000", "50000"], LocalPorts(page)), WaitTimeout);
        Assert.EndsWith("/?range=os-ephemeral", Navigation.Uri, StringComparison.Ordinal);

        page.Find(".os-filter [data-range=os-ephemeral]").Click();
        page.Find(".range-filter [data-range=ephemeral]").Click();

        page.WaitForAssertion(() => Assert.Equal(["50000"], LocalPorts(page)), WaitTimeout);
        Assert.EndsWith("/?range=ephemeral", Navigation.Uri, StringComparison.Ordinal);
    }

    [Fact]
    public void The_url_selects_the_os_chips_and_privileged_keeps_only_ports_below_the_threshold()
    {
        Feed.SetCurrent(Initial);
        Navigation.NavigateTo("/?range=privileged");

        var page = Render<Connections>();

        page.WaitForAssertion(() => Assert.Equal(["22"], LocalPorts(page)), WaitTimeout);
        Assert.Equal(["privileged"], page.FindAll(".os-filter .mud-chip-selected").Select(c => c.GetAttribute("data-range")));
        Assert.Empty(page.FindAll(".range-filter .mud-chip-selected"));
    }

    [Fact]
    public void The_summary_cards_count_by_both_views()
    {
        Feed.SetCurrent(Initial);

        var page = Render<Connections>();

        page.WaitForAssertion(() => Assert.Equal("1", Card(page, "registered")), WaitTimeout);
        Assert.Equal("1", Card(page, "ephemeral"));
        Assert.Equal("2", Card(page, "os-ephemeral"));
        Assert.Equal("1", Card(page, "privileged"));
    }

    [Fact]
    public void A_socket_open_before_the_page_opens_shows_its_age_since_the_service_first_saw_it()
    {
        // The service saw sshd in its first snapshot (so it was open before the service started), the app a minute later.
        var ages = new SocketAges();
        var first = Snapshot(Start, _ssh);
        ages.Record(first, Delta.Between(Core.Sockets.Snapshot.Empty, first));
        var second = Snapshot(Start.AddMinutes(1), _ssh, _app);
        ages.Record(second, Delta.Between(first, second));
        Feed.Ages = ages;

        // The page opens five minutes after the service started.
        Time.Advance(TimeSpan.FromMinutes(5));
        Feed.SetCurrent(Snapshot(Start.AddMinutes(5), _ssh, _app));

        var page = Render<Connections>();

        page.WaitForAssertion(() => Assert.Equal("4m 00s", AgeOf(page, 40000)), WaitTimeout);
        Assert.Equal("≥ 5m 00s", AgeOf(page, 22));

        // Sorting by age (youngest first) follows the service's times, not the page's.
        page.Find("th.col-age .column-header span").Click();
        page.WaitForAssertion(() => Assert.Equal(["40000", "22"], LocalPorts(page)), WaitTimeout);
    }

    private static IReadOnlyList<IElement> Rows(IRenderedComponent<Connections> page) =>
        page.FindAll(".socket-grid tbody tr.mud-table-row");

    private static string[] LocalPorts(IRenderedComponent<Connections> page) =>
        [.. Rows(page).Select(r => r.QuerySelector("td.col-local-port .port")!.TextContent.Trim())];

    private static IElement LocalPortCell(IRenderedComponent<Connections> page, int port) =>
        Assert.Single(page.FindAll("td.col-local-port"), c => c.QuerySelector(".port")!.TextContent.Trim() == port.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static string AgeOf(IRenderedComponent<Connections> page, int port) =>
        Assert.Single(Rows(page), r => r.QuerySelector("td.col-local-port .port")!.TextContent.Trim() == port.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .QuerySelector("td.col-age")!.TextContent.Trim();

    private static string Card(IRenderedComponent<Connections> page, string card) =>
        page.Find($".summary-card[data-card={card}] .value").TextContent.Trim();
}
