using AngleSharp.Dom;
using Bunit;
using MudBlazor;
using PortDashboard.Components;
using PortDashboard.Components.Pages;
using PortDashboard.Core.Sockets;
using PortDashboard.Model;
using PortDashboard.Tests.Components.Support;
using static PortDashboard.Tests.Components.Support.TestSockets;

namespace PortDashboard.Tests.Components.Pages;

public sealed class ConnectionsTests : DashboardTestContext
{
    private static readonly ProcessInfo Sshd = Process("sshd", 812);
    private static readonly ProcessInfo Postgres = Process("postgres", 900, "postgres", 105);
    private static readonly ProcessInfo Psql = Process("psql", 4242, "alice", 1000);

    // Well-known listener, registered listener, and one connection between two local processes (ephemeral client port).
    private readonly Core.Sockets.Socket _ssh = Listener("0.0.0.0:22", Sshd);
    private readonly Core.Sockets.Socket _postgres = Listener("127.0.0.1:5432", Postgres);
    private readonly Core.Sockets.Socket _client = Tcp("127.0.0.1:51000", "127.0.0.1:5432", SocketState.Established, Psql);
    private readonly Core.Sockets.Socket _server = Tcp("127.0.0.1:5432", "127.0.0.1:51000", SocketState.Established, Postgres);

    private Snapshot Initial => Snapshot(Start, _ssh, _postgres, _client, _server);

    [Fact]
    public void Shows_every_socket_of_the_first_snapshot_with_ranges_and_services_and_no_highlight()
    {
        Feed.SetCurrent(Initial);

        var page = Render<Connections>();

        page.WaitForAssertion(() => Assert.Equal(4, Rows(page).Count), WaitTimeout);
        var ssh = RowOf(page, "sshd (812)");
        Assert.Contains("Well-known", ssh.TextContent, StringComparison.Ordinal);
        Assert.Contains("ssh", ssh.QuerySelector(".service")!.TextContent, StringComparison.Ordinal);
        var client = RowOf(page, "psql (4242)");
        Assert.Contains("Ephemeral", client.TextContent, StringComparison.Ordinal);
        Assert.Contains("postgresql", client.TextContent, StringComparison.Ordinal);
        Assert.All(Rows(page), row => Assert.DoesNotContain(row.ClassList, c => c.StartsWith("row-", StringComparison.Ordinal)));
        Assert.Equal(1, Feed.Subscriptions);
    }

    [Fact]
    public void The_ephemeral_chip_leaves_rows_with_an_ephemeral_endpoint_and_puts_the_range_in_the_url()
    {
        Feed.SetCurrent(Initial);
        var page = Render<Connections>();
        page.WaitForAssertion(() => Assert.Equal(4, Rows(page).Count), WaitTimeout);

        page.Find(".range-filter [data-range=ephemeral]").Click();

        page.WaitForAssertion(() => Assert.Equal(2, Rows(page).Count), WaitTimeout);
        Assert.All(Rows(page), row => Assert.Contains("51000", row.TextContent, StringComparison.Ordinal));
        Assert.EndsWith("/?range=ephemeral", Navigation.Uri, StringComparison.Ordinal);

        // A second chip widens the view: ranges are alternatives.
        page.Find(".range-filter [data-range=wellknown]").Click();

        page.WaitForAssertion(() => Assert.Equal(3, Rows(page).Count), WaitTimeout);
        Assert.EndsWith("/?range=wellknown,ephemeral", Uri.UnescapeDataString(Navigation.Uri), StringComparison.Ordinal);
    }

    [Fact]
    public void The_url_query_sets_the_initial_filter_and_selects_its_chips()
    {
        Feed.SetCurrent(Initial);
        Navigation.NavigateTo("/?range=registered&proto=tcp&state=listen");

        var page = Render<Connections>();

        page.WaitForAssertion(() => Assert.Equal("postgres (900)", Assert.Single(Rows(page)).QuerySelector(".col-process")!.TextContent.Trim()), WaitTimeout);
        Assert.Equal(["registered"], SelectedRanges(page));
    }

    [Fact]
    public void Url_criteria_without_a_control_show_as_a_chip_that_clears_them()
    {
        Feed.SetCurrent(Initial);
        Navigation.NavigateTo("/?proto=tcp&port=22,8000-8999");
        var page = Render<Connections>();
        page.WaitForAssertion(() => Assert.Equal("sshd (812)", Assert.Single(Rows(page)).QuerySelector(".col-process")!.TextContent.Trim()), WaitTimeout);

        var chip = page.Find(".other-criteria");
        Assert.Contains("port=22,8000-8999", chip.TextContent, StringComparison.Ordinal);
        page.Find(".other-criteria .mud-chip-close-button").Click();

        page.WaitForAssertion(() => Assert.Equal(4, Rows(page).Count), WaitTimeout);
        Assert.EndsWith("/?proto=tcp", Navigation.Uri, StringComparison.Ordinal);
        Assert.Empty(page.FindAll(".other-criteria"));
    }

    [Fact]
    public void Going_back_to_an_earlier_url_restores_its_filter()
    {
        Feed.SetCurrent(Initial);
        var page = Render<Connections>();
        page.WaitForAssertion(() => Assert.Equal(4, Rows(page).Count), WaitTimeout);
        page.Find(".range-filter [data-range=wellknown]").Click();
        page.WaitForAssertion(() => Assert.Single(Rows(page)), WaitTimeout);

        // The browser's back button lands on the previous URL: LocationChanged must bring its filter back.
        Navigation.NavigateTo("/");

        page.WaitForAssertion(() => Assert.Equal(4, Rows(page).Count), WaitTimeout);
        Assert.Empty(SelectedRanges(page));
    }

    [Fact]
    public void A_bad_query_shows_its_message_and_the_page_still_shows_every_socket()
    {
        Feed.SetCurrent(Initial);
        Navigation.NavigateTo("/?range=bogus");

        var page = Render<Connections>();

        var alert = page.WaitForElement(".filter-error", WaitTimeout);
        Assert.Contains("unknown range 'bogus'", alert.TextContent, StringComparison.Ordinal);
        Assert.Contains("range", alert.QuerySelector("b")!.TextContent, StringComparison.Ordinal);
        page.WaitForAssertion(() => Assert.Equal(4, Rows(page).Count), WaitTimeout);

        // Choosing a filter replaces the bad query and the message goes.
        page.Find(".range-filter [data-range=wellknown]").Click();
        page.WaitForAssertion(() => Assert.Empty(page.FindAll(".filter-error")), WaitTimeout);
        Assert.EndsWith("/?range=wellknown", Navigation.Uri, StringComparison.Ordinal);
    }

    [Fact]
    public async Task New_changed_and_closed_rows_carry_their_highlight()
    {
        Feed.SetCurrent(Initial);
        var page = Render<Connections>();
        page.WaitForAssertion(() => Assert.Equal(4, Rows(page).Count), WaitTimeout);

        var https = Tcp("10.0.0.5:43000", "93.184.216.34:443", SocketState.SynSent, Process("curl", 5000));
        Feed.Publish(Snapshot(Start.AddSeconds(1), _ssh, _postgres, _client.With(SocketState.CloseWait), https));
        await Feed.WaitForConsumedAsync(2, WaitTimeout);
        // Applied, but not shown yet: the page refreshes at most every MinRefreshInterval.
        Assert.Empty(page.FindAll("tr.row-new"));
        Time.Advance(LiveFeedComponent.MinRefreshInterval);

        page.WaitForAssertion(() =>
        {
            Assert.Contains("row-new", RowOf(page, "curl (5000)").ClassList);
            Assert.Contains("row-changed", RowOf(page, "psql (4242)").ClassList);
            var closed = Assert.Single(Rows(page), r => r.TextContent.Contains("postgres (900)", StringComparison.Ordinal) && r.TextContent.Contains("51000", StringComparison.Ordinal));
            Assert.Contains("row-removed", closed.ClassList);
            Assert.DoesNotContain(RowOf(page, "sshd (812)").ClassList, c => c.StartsWith("row-", StringComparison.Ordinal));
        }, WaitTimeout);
        Assert.Contains("CLOSE-WAIT", RowOf(page, "psql (4242)").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_row_count_follows_the_rows_shown_after_every_update()
    {
        Feed.SetCurrent(Initial);
        Navigation.NavigateTo("/?range=ephemeral");
        var page = Render<Connections>();
        page.WaitForAssertion(() => Assert.Equal(2, Rows(page).Count), WaitTimeout);
        page.WaitForAssertion(() => Assert.Equal("2 of 4 sockets", page.Find(".row-count").TextContent), WaitTimeout);

        // Two more with an ephemeral end: the count says so in the same refresh that shows their rows.
        var https = Tcp("10.0.0.5:50000", "93.184.216.34:443", SocketState.Established, Process("curl", 5000));
        var dns = Tcp("10.0.0.5:55000", "10.0.0.1:53", SocketState.Established, Process("dig", 5001));
        Feed.Publish(Snapshot(Start.AddSeconds(1), _ssh, _postgres, _client, _server, https, dns));
        await Feed.WaitForConsumedAsync(2, WaitTimeout);
        Time.Advance(LiveFeedComponent.MinRefreshInterval);

        page.WaitForAssertion(() =>
        {
            Assert.Equal(4, Rows(page).Count);
            Assert.Equal("4 of 6 sockets", page.Find(".row-count").TextContent);
        }, WaitTimeout);
    }

    [Fact]
    public async Task Closed_rows_vanish_and_highlights_end_after_the_highlight_duration()
    {
        Feed.SetCurrent(Initial);
        var page = Render<Connections>();
        page.WaitForAssertion(() => Assert.Equal(4, Rows(page).Count), WaitTimeout);
        var https = Tcp("10.0.0.5:43000", "93.184.216.34:443", SocketState.Established, Process("curl", 5000));
        Feed.Publish(Snapshot(Start.AddSeconds(1), _ssh, _postgres, _client, https));
        await Feed.WaitForConsumedAsync(2, WaitTimeout); // applied at Start: highlights end at Start + 3 s
        Time.Advance(LiveFeedComponent.MinRefreshInterval);
        page.WaitForAssertion(() => Assert.Contains(Rows(page), r => r.ClassList.Contains("row-removed")), WaitTimeout);

        // Not yet: a moment before the highlight ends the closed row is still there.
        Time.Advance(SocketTable.DefaultHighlightDuration - LiveFeedComponent.MinRefreshInterval - TimeSpan.FromMilliseconds(1));
        Assert.Equal(5, Rows(page).Count);

        Time.Advance(LiveFeedComponent.MinRefreshInterval);

        page.WaitForAssertion(() =>
        {
            Assert.Equal(4, Rows(page).Count);
            Assert.All(Rows(page), row => Assert.DoesNotContain(row.ClassList, c => c.StartsWith("row-", StringComparison.Ordinal)));
        }, WaitTimeout);
    }

    [Fact]
    public async Task Pause_stops_applying_batches_and_resume_resyncs_from_the_current_snapshot()
    {
        Feed.SetCurrent(Initial);
        var page = Render<Connections>();
        page.WaitForAssertion(() => Assert.Equal(4, Rows(page).Count), WaitTimeout);

        page.Find(".pause-button").Click();
        page.WaitForAssertion(() => Assert.Contains("Resume", page.Find(".pause-button").TextContent, StringComparison.Ordinal), WaitTimeout);
        var dns = Udp("10.0.0.5:40001", "10.0.0.1:53", Process("resolved", 300));
        Feed.Publish(Snapshot(Start.AddSeconds(1), _ssh, _postgres, _client, _server, dns));
        await Feed.WaitForConsumedAsync(2, WaitTimeout);
        Time.Advance(TimeSpan.FromSeconds(1));
        // The batch was read and ignored while paused.
        Assert.Equal(4, Rows(page).Count);
        Assert.Empty(page.FindAll(".socket-grid tr.row-new"));

        page.Find(".pause-button").Click();

        page.WaitForAssertion(() => Assert.Contains("row-new", RowOf(page, "resolved (300)").ClassList), WaitTimeout);
        Assert.Contains("domain", RowOf(page, "resolved (300)").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Partial_attribution_shows_who_to_run_as()
    {
        var note = "run as root (or with CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH) to see every process";
        Feed.SetCurrent(Snapshot(Start, new AttributionStatus(AttributionCompleteness.Partial, 40, 3, note), _ssh, _client));

        var page = Render<Connections>();

        var notice = page.WaitForElement(".attribution-notice", WaitTimeout);
        Assert.Contains("3 of 43 processes", notice.TextContent, StringComparison.Ordinal);
        Assert.Contains(note, notice.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Complete_attribution_shows_no_notice()
    {
        Feed.SetCurrent(Initial);

        var page = Render<Connections>();

        page.WaitForAssertion(() => Assert.Equal(4, Rows(page).Count), WaitTimeout);
        Assert.Empty(page.FindAll(".attribution-notice"));
    }

    [Fact]
    public void Summary_cards_count_ranges_states_and_ephemeral_ports_in_use()
    {
        var timeWait = Tcp("127.0.0.1:40000", "127.0.0.1:22", SocketState.TimeWait);
        Feed.SetCurrent(Snapshot(Start, _ssh, _postgres, _client, _server, timeWait));

        var page = Render<Connections>();

        page.WaitForAssertion(() => Assert.Equal("5", Card(page, "total")), WaitTimeout);
        Assert.Equal("1", Card(page, "wellknown"));
        Assert.Equal("3", Card(page, "registered")); // 5432 twice, 40000 (IANA registered, yet OS-ephemeral)
        Assert.Equal("1", Card(page, "ephemeral"));
        Assert.Equal("2", Card(page, "listening"));
        Assert.Equal("1", Card(page, "time-wait"));
        // 40000 and 51000 lie in Linux's default ephemeral range 32768–60999 (28,232 ports).
        Assert.StartsWith("2 / 28,232", Card(page, "ephemeral-use"), StringComparison.Ordinal);
    }

    [Fact]
    public void Sorting_by_a_column_reorders_the_rows()
    {
        Feed.SetCurrent(Initial);
        var page = Render<Connections>();
        page.WaitForAssertion(() => Assert.Equal(4, Rows(page).Count), WaitTimeout);
        var grid = page.FindComponent<MudDataGrid<SocketRow>>();

        grid.InvokeAsync(() => grid.Instance.SetSortAsync(nameof(SocketRow.ProcessName), SortDirection.Descending, r => r.ProcessName, null!));

        page.WaitForAssertion(() => Assert.Equal(
            ["sshd (812)", "psql (4242)", "postgres (900)", "postgres (900)"],
            Rows(page).Select(r => r.QuerySelector(".col-process")!.TextContent.Trim())), WaitTimeout);
    }

    [Fact]
    public async Task Disposing_the_page_ends_its_subscription()
    {
        Feed.SetCurrent(Initial);
        var page = Render<Connections>();
        page.WaitForAssertion(() => Assert.Equal(4, Rows(page).Count), WaitTimeout);
        Assert.Equal(1, Feed.Subscribers);

        await DisposeComponentsAsync();

        Assert.Equal(0, Feed.Subscribers);
    }

    private static IReadOnlyList<IElement> Rows(IRenderedComponent<Connections> page) =>
        page.FindAll(".socket-grid tbody tr.mud-table-row");

    private static IElement RowOf(IRenderedComponent<Connections> page, string process) =>
        Assert.Single(Rows(page), r => r.QuerySelector(".col-process")?.TextContent.Trim() == process);

    private static IEnumerable<string?> SelectedRanges(IRenderedComponent<Connections> page) =>
        page.FindAll(".range-filter .mud-chip-selected").Select(chip => chip.GetAttribute("data-range"));

    private static string Card(IRenderedComponent<Connections> page, string card) =>
        page.Find($".summary-card[data-card={card}] .value").TextContent.Trim();
}
