using AngleSharp.Dom;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using PortDashboard.Components;
using PortDashboard.Components.Controls;
using PortDashboard.Components.Pages;
using PortDashboard.Core.Sockets;
using PortDashboard.Model;
using PortDashboard.Naming;
using PortDashboard.Tests.Components.Support;
using PortDashboard.Tests.Support;
using static PortDashboard.Tests.Components.Support.TestSockets;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Tests.Components.Pages;

/// <summary>
/// The Connections page's names beside remote addresses (from a fake resolver: nothing leaves the machine), the
/// numbers-only switch, and the group-by view with its counts by state, all in the URL.
/// </summary>
public sealed class ConnectionsNamesAndGroupsTests : DashboardTestContext
{
    private static readonly ProcessInfo Nginx = Process("nginx", 700);
    private static readonly ProcessInfo Curl = Process("curl", 4300);
    private static readonly ProcessInfo Sshd = Process("sshd", 812);

    private readonly Socket _web = Listener("0.0.0.0:80", Nginx);
    private readonly Socket _webClient1 = Tcp("10.0.0.5:80", "192.0.2.10:51000", SocketState.Established, Nginx);
    private readonly Socket _webClient2 = Tcp("10.0.0.5:80", "192.0.2.10:51001", SocketState.TimeWait);
    private readonly Socket _webClient3 = Tcp("10.0.0.5:80", "198.51.100.7:40000", SocketState.Established, Nginx);
    private readonly Socket _curl = Tcp("10.0.0.5:43000", "198.51.100.7:443", SocketState.SynSent, Curl);
    private readonly Socket _ssh = Listener("0.0.0.0:22", Sshd);

    public ConnectionsNamesAndGroupsTests()
    {
        ReverseDns.Add("192.0.2.10", "alpha.example.test");
        ReverseDns.Add("198.51.100.7", "beta.example.test");
    }

    private Snapshot Initial => Snapshot(Start, _web, _webClient1, _webClient2, _webClient3, _curl, _ssh);

    private AddressNames Names => Services.GetRequiredService<AddressNames>();

    private static List<IElement> Rows(IRenderedComponent<Connections> page) =>
        [.. page.FindAll(".socket-grid tbody tr.mud-table-row").Where(r => r.QuerySelector(".col-proto") is not null)];

    private static IElement GroupRow(IRenderedComponent<Connections> page, string key) =>
        Assert.Single(page.FindAll("tr.group-row"), r => r.GetAttribute("data-group") == key);

    private static readonly string[] CountColumns = ["established", "listen", "time-wait", "other", "total"];

    private static string[] Counts(IElement groupRow) =>
        [.. CountColumns.Select(c => groupRow.QuerySelector($"td.{c}")!.TextContent.Trim())];

    /// <summary>Lets the page's next tick see the names the background lookups found.</summary>
    private async Task NamesArrivedAsync(int count)
    {
        await Eventually.WaitUntil(() => Names.Version >= count, $"{count} names were looked up");
        Time.Advance(LiveFeedComponent.MinRefreshInterval);
    }

    private static string QueryOf(string uri) => Uri.UnescapeDataString(new Uri(uri).Query);

    [Fact]
    public async Task A_remote_address_shows_its_name_beside_it_once_looked_up_and_never_for_a_listener()
    {
        ReverseDns.Hold();
        Feed.SetCurrent(Initial);
        var page = Render<Connections>();
        page.WaitForAssertion(() => Assert.Equal(6, Rows(page).Count), WaitTimeout);
        await Eventually.WaitUntil(() => ReverseDns.Running == 2, "both lookups started");
        Assert.Empty(page.FindAll(".remote-name")); // the page did not wait for them: numbers first

        ReverseDns.Release();
        await NamesArrivedAsync(2);

        page.WaitForAssertion(() => Assert.Equal(4, page.FindAll(".remote-name").Count), WaitTimeout);
        var curl = Assert.Single(Rows(page), r => r.TextContent.Contains("curl (4300)", StringComparison.Ordinal));
        Assert.Equal("beta.example.test", curl.QuerySelector(".col-address .remote-name")!.TextContent.Trim());
        var ssh = Assert.Single(Rows(page), r => r.TextContent.Contains("sshd (812)", StringComparison.Ordinal));
        Assert.Null(ssh.QuerySelector(".remote-name"));
        Assert.Equal(2, ReverseDns.Asked.Count); // each address once, however many rows show it
    }

    [Fact]
    public async Task The_text_filter_finds_a_row_by_its_remote_name()
    {
        Feed.SetCurrent(Initial);
        Navigation.NavigateTo("/?q=beta.example");
        var page = Render<Connections>();

        await NamesArrivedAsync(2);

        page.WaitForAssertion(() => Assert.Equal(2, Rows(page).Count), WaitTimeout);
        Assert.All(Rows(page), r => Assert.Contains("198.51.100.7", r.TextContent, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Numbers_only_hides_the_names_stops_the_text_filter_finding_them_and_is_in_the_url()
    {
        Feed.SetCurrent(Initial);
        var page = Render<Connections>();
        await NamesArrivedAsync(2);
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll(".remote-name")), WaitTimeout);

        var numeric = page.FindComponents<MudSwitch<bool>>().Single(s => s.Instance.Class?.Contains("numeric-switch", StringComparison.Ordinal) == true);
        await page.InvokeAsync(() => numeric.Instance.ValueChanged.InvokeAsync(true));

        page.WaitForAssertion(() => Assert.Empty(page.FindAll(".remote-name")), WaitTimeout);
        Assert.Equal("?numeric=1", QueryOf(Navigation.Uri));

        Navigation.NavigateTo("/?q=alpha&numeric=1");
        page.WaitForAssertion(() => Assert.Empty(Rows(page)), WaitTimeout); // the name is not searched: numbers only
        Navigation.NavigateTo("/?q=alpha");
        page.WaitForAssertion(() => Assert.Equal(2, Rows(page).Count), WaitTimeout);
    }

    [Fact]
    public void Switched_off_in_configuration_the_page_asks_nothing_and_offers_no_switch()
    {
        ReverseDnsOptions.Enabled = false;
        Feed.SetCurrent(Initial);
        var page = Render<Connections>();
        page.WaitForAssertion(() => Assert.Equal(6, Rows(page).Count), WaitTimeout);

        Assert.Empty(page.FindAll(".numeric-switch"));
        Assert.Empty(page.FindAll(".remote-name"));
        Assert.Empty(ReverseDns.Asked);
    }

    [Fact]
    public void Grouped_by_process_each_group_counts_its_rows_by_state_with_totals()
    {
        Feed.SetCurrent(Initial);
        Navigation.NavigateTo("/?group=process");
        var page = Render<Connections>();

        page.WaitForAssertion(() => Assert.Equal(4, page.FindAll("tr.group-row").Count), WaitTimeout);
        Assert.Empty(page.FindAll(".socket-grid"));
        // Largest first, then by key (ordinal).
        Assert.Equal(["nginx", "(no process)", "curl", "sshd"], page.FindAll("tr.group-row").Select(r => r.GetAttribute("data-group")));
        Assert.Equal(["2", "1", "0", "0", "3"], Counts(GroupRow(page, "nginx")));
        Assert.Equal(["0", "0", "0", "1", "1"], Counts(GroupRow(page, "curl")));
        Assert.Equal(["0", "0", "1", "0", "1"], Counts(GroupRow(page, "(no process)")));
        var totals = page.Find("tr.totals-row");
        Assert.Equal(["2", "2", "1", "1", "6"], Counts(totals));
        Assert.Contains("4 groups", totals.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void A_group_expands_to_its_rows_and_folds_back()
    {
        Feed.SetCurrent(Initial);
        Navigation.NavigateTo("/?group=localport");
        var page = Render<Connections>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("tr.group-row")), WaitTimeout);
        Assert.Equal(["0", "1", "0", "0", "1"], Counts(GroupRow(page, "22")));
        Assert.Empty(page.FindAll("tr.member-row"));

        GroupRow(page, "80").QuerySelector("button.expand")!.Click();

        page.WaitForAssertion(() => Assert.Equal(4, page.FindAll("[data-group-rows='80'] tr.member-row").Count), WaitTimeout);
        Assert.Equal("true", GroupRow(page, "80").QuerySelector("button.expand")!.GetAttribute("aria-expanded"));
        Assert.Contains(page.FindAll("tr.member-row"), r => r.TextContent.Contains("TIME-WAIT", StringComparison.Ordinal));

        GroupRow(page, "80").QuerySelector("button.expand")!.Click();
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("tr.member-row")), WaitTimeout);
    }

    [Fact]
    public async Task The_groups_follow_the_live_table()
    {
        Feed.SetCurrent(Initial);
        Navigation.NavigateTo("/?group=process");
        var page = Render<Connections>();
        page.WaitForAssertion(() => Assert.Equal(["2", "1", "0", "0", "3"], Counts(GroupRow(page, "nginx"))), WaitTimeout);
        GroupRow(page, "nginx").QuerySelector("button.expand")!.Click();

        var another = Tcp("10.0.0.5:80", "203.0.113.4:50500", SocketState.Established, Nginx);
        Feed.Publish(Snapshot(Start.AddSeconds(1), _web, _webClient1, _webClient3, another, _ssh));
        await Feed.WaitForConsumedAsync(2, WaitTimeout);
        Time.Advance(LiveFeedComponent.MinRefreshInterval);

        page.WaitForAssertion(() =>
        {
            Assert.Equal(["3", "1", "0", "0", "4"], Counts(GroupRow(page, "nginx")));
            Assert.Contains(page.FindAll("[data-group-rows='nginx'] tr.member-row"), r => r.TextContent.Contains("203.0.113.4", StringComparison.Ordinal));
            Assert.DoesNotContain(page.FindAll("tr.group-row"), r => r.GetAttribute("data-group") == "curl"); // its only socket closed
        }, WaitTimeout);
    }

    [Fact]
    public async Task Choosing_a_grouping_puts_it_in_the_url_beside_the_filter_and_no_grouping_takes_it_out()
    {
        Feed.SetCurrent(Initial);
        Navigation.NavigateTo("/?proto=tcp");
        var page = Render<Connections>();
        page.WaitForAssertion(() => Assert.Equal(6, Rows(page).Count), WaitTimeout);
        var select = page.FindComponents<MudSelect<string>>().Single(s => s.Instance.Class?.Contains("group-by", StringComparison.Ordinal) == true);

        await page.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync("remote"));

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("tr.group-row").Count), WaitTimeout);
        Assert.Equal("?proto=tcp&group=remote", QueryOf(Navigation.Uri));
        Assert.Equal(["1", "0", "1", "0", "2"], Counts(GroupRow(page, "192.0.2.10")));
        Assert.Equal(["0", "2", "0", "0", "2"], Counts(GroupRow(page, "*")));

        await page.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync("none"));
        page.WaitForAssertion(() => Assert.Equal(6, Rows(page).Count), WaitTimeout);
        Assert.Equal("?proto=tcp", QueryOf(Navigation.Uri));
    }

    [Fact]
    public async Task Grouped_by_remote_address_a_group_shows_the_addresses_name()
    {
        Feed.SetCurrent(Initial);
        Navigation.NavigateTo("/?group=remote");
        var page = Render<Connections>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("tr.group-row")), WaitTimeout);

        await NamesArrivedAsync(2);

        page.WaitForAssertion(() => Assert.Contains("(beta.example.test)", GroupRow(page, "198.51.100.7").TextContent, StringComparison.Ordinal), WaitTimeout);
        Assert.DoesNotContain("(", GroupRow(page, "*").QuerySelector(".group-key")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_grouping_in_the_url_is_named_in_a_warning_and_the_rows_show_ungrouped()
    {
        Feed.SetCurrent(Initial);
        Navigation.NavigateTo("/?group=colour&proto=tcp");
        var page = Render<Connections>();

        page.WaitForAssertion(() => Assert.Equal(6, Rows(page).Count), WaitTimeout);
        var warning = page.Find(".group-error").TextContent;
        Assert.Contains("unknown group 'colour'; expected process, remote, localport", warning, StringComparison.Ordinal);
        Assert.Empty(page.FindAll(".filter-error")); // group is the page's key, not a filter error
    }

    [Fact]
    public void The_pages_keys_are_case_insensitive_like_the_filters()
    {
        Feed.SetCurrent(Initial);
        Navigation.NavigateTo("/?Group=LocalPort&PROTO=tcp");
        var page = Render<Connections>();

        page.WaitForAssertion(() => Assert.Equal(["0", "1", "0", "0", "1"], Counts(GroupRow(page, "22"))), WaitTimeout);
        Assert.Empty(page.FindAll(".filter-error"));
        Assert.Empty(page.FindAll(".group-error"));
    }

    [Fact]
    public void The_page_query_is_the_filters_canonical_form_then_group_then_numeric()
    {
        var filter = Core.Filtering.Filter.Parse("?state=listen&proto=tcp");
        Assert.Equal(filter.ToQueryString() + "&group=localport&numeric=1",
            Connections.PageQuery(filter, SocketGrouping.LocalPort, numeric: true));
        Assert.Equal("group=process", Connections.PageQuery(Core.Filtering.Filter.Empty, SocketGrouping.Process, numeric: false));
        Assert.Equal("", Connections.PageQuery(Core.Filtering.Filter.Empty, null, numeric: false));
        Assert.Equal((SocketGrouping.RemoteAddress, true, (string?)null), Connections.ParsePageKeys("?group=REMOTE&numeric=1"));
    }
}
