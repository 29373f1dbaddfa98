using System.Collections.Immutable;
using AngleSharp.Dom;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using PortDashboard.Api;
using PortDashboard.Components.Fleet;
using PortDashboard.Components.Pages;
using PortDashboard.Core.Filtering;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;
using PortDashboard.Fleet;
using PortDashboard.Tests.Components.Support;
using static PortDashboard.Tests.Components.Support.TestSockets;

namespace PortDashboard.Tests.Components.Fleet;

/// <summary>
/// The existing pages across fleet hosts (issue 12): with <c>host=</c> naming hosts of a <see cref="FleetStore"/> the
/// Connections, Listening and Ephemeral pages show those hosts' tables (a Host column when several are in view, a
/// stale host's rows marked), judged by each host's own port policy, live as the store changes; the host picker writes
/// <c>host=</c>; without a fleet nothing of it shows.
/// </summary>
public sealed class FleetPagesTests : DashboardTestContext
{
    /// <summary>A narrow ephemeral range, unlike this node's (Linux's default): 15000 is OS-ephemeral there only.</summary>
    private static readonly OsPortPolicy NarrowPolicy = new(10000, 20000, 1024) { Source = "test" };

    private static readonly ProcessInfo Sshd = Process("sshd", 812);
    private static readonly ProcessInfo Postgres = Process("postgres", 900, "postgres", 105);

    private readonly FleetStore _store = new();

    // This node's own table: never among a fleet view's rows.
    private readonly Core.Sockets.Socket _local = Listener("0.0.0.0:8080", Process("local-app", 77));

    private readonly Core.Sockets.Socket _web1Ssh = Listener("0.0.0.0:22", Sshd);
    private readonly Core.Sockets.Socket _web1Client = Tcp("10.0.0.1:40000", "10.0.0.2:5432", SocketState.Established);
    private readonly Core.Sockets.Socket _web2Postgres = Listener("0.0.0.0:5432", Postgres);
    private readonly Core.Sockets.Socket _web2Client = Tcp("10.0.0.2:15000", "10.0.0.9:443", SocketState.Established);

    public FleetPagesTests()
    {
        Services.AddSingleton(_store);
        Feed.SetCurrent(Snapshot(Start, _local));
        _store.Set(Host("web-1", FleetHostStatus.Online, OsPortPolicy.LinuxDefault, _web1Ssh, _web1Client));
        _store.Set(Host("web-2", FleetHostStatus.Stale, NarrowPolicy, _web2Postgres, _web2Client));
    }

    [Fact]
    public void Connections_across_all_hosts_shows_each_hosts_rows_with_a_host_column_and_the_stale_host_marked()
    {
        Navigation.NavigateTo("/?host=*");

        var page = Render<Connections>();

        page.WaitForAssertion(() => Assert.Equal(4, Rows(page).Count), WaitTimeout);
        Assert.Equal(["web-1:22", "web-2:5432", "web-2:15000", "web-1:40000"], HostPorts(page));
        Assert.DoesNotContain("8080", LocalPorts(page)); // this node's table is not a fleet host's
        Assert.NotEmpty(page.FindAll("th.col-host"));
        foreach (var row in Rows(page))
        {
            var stale = HostOf(row) == "web-2";
            Assert.True(stale == row.ClassList.Contains("row-stale"), $"{HostOf(row)}'s row is marked stale only when its host is not online");
            Assert.True(stale == (row.QuerySelector(".host-stale") is not null), "a stale row says so in its host cell");
        }

        Assert.Contains("web-2 (stale)", page.Find(".fleet-notice").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_hosts_ports_are_judged_by_that_hosts_own_port_policy()
    {
        Navigation.NavigateTo("/?range=os-ephemeral&host=*");

        var page = Render<Connections>();

        // 15000 is OS-ephemeral on web-2 (10000–20000) only; 40000 on web-1 (Linux's 32768–60999) only.
        page.WaitForAssertion(() => Assert.Equal(["web-2:15000", "web-1:40000"], HostPorts(page)), WaitTimeout);
        Assert.Contains("10000–20000", PortCell(page, "web-2", "15000").QuerySelector(".os-ephemeral")!.GetAttribute("title"), StringComparison.Ordinal);
        Assert.Contains("32768–60999", PortCell(page, "web-1", "40000").QuerySelector(".os-ephemeral")!.GetAttribute("title"), StringComparison.Ordinal);
    }

    [Fact]
    public void One_host_shows_its_rows_alone_without_a_host_column_and_follows_the_store_live()
    {
        Navigation.NavigateTo("/?host=web-1");

        var page = Render<Connections>();

        page.WaitForAssertion(() => Assert.Equal(["22", "40000"], LocalPorts(page)), WaitTimeout);
        Assert.Empty(page.FindAll("th.col-host"));
        Assert.Empty(page.FindAll("tr.row-stale"));

        // The agent's next delta arrives: the consumer swaps in a new record and tells the pages.
        _store.Set(Host("web-1", FleetHostStatus.Online, OsPortPolicy.LinuxDefault, _web1Ssh, _web1Client, Listener("0.0.0.0:443", Sshd)));
        _store.NotifyChanged();
        Time.Advance(TimeSpan.FromMilliseconds(300)); // the page's tick

        page.WaitForAssertion(() => Assert.Equal(["22", "443", "40000"], LocalPorts(page)), WaitTimeout);
        Assert.Contains("row-new", Row(page, "443").ClassList); // highlighted as a local new row would be

        // It goes offline: its rows stay, marked stale, never shown as live.
        _store.Set(_store.Hosts["web-1"] with { Status = FleetHostStatus.Offline });
        _store.NotifyChanged();
        Time.Advance(TimeSpan.FromMilliseconds(300));

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("tr.row-stale").Count), WaitTimeout);
    }

    [Fact]
    public async Task The_host_picker_writes_host_into_the_url_and_keeps_the_other_keys()
    {
        Navigation.NavigateTo("/?range=wellknown,registered&numeric=1");
        var page = Render<Connections>();
        page.WaitForAssertion(() => Assert.Equal(["8080"], LocalPorts(page)), WaitTimeout);

        await page.InvokeAsync(() => Picker(page).Instance.SelectedValuesChanged.InvokeAsync(["web-2", "web-1"]));

        Assert.EndsWith("/?range=wellknown,registered&numeric=1&host=web-1,web-2", Navigation.Uri, StringComparison.Ordinal);
        // 15000 and 40000 are IANA-registered: the range filter keeps every fleet row, and this node's 8080 is gone.
        page.WaitForAssertion(() => Assert.Equal(["web-1:22", "web-2:5432", "web-2:15000", "web-1:40000"], HostPorts(page)), WaitTimeout);
        Assert.Equal("web-1,web-2", page.Find(".host-picker").GetAttribute("data-hosts"));
        Assert.Empty(page.FindAll(".other-criteria")); // the picker shows host=, not the address bar's other criteria

        // "All hosts" chosen beside single hosts wins; clearing the choice is this host's table again.
        await page.InvokeAsync(() => Picker(page).Instance.SelectedValuesChanged.InvokeAsync(["web-1", "web-2", Filter.AllHosts]));
        Assert.Equal(["*"], Filter.Parse(new Uri(Navigation.Uri).Query, [Connections.NumericKey]).Hosts);

        await page.InvokeAsync(() => Picker(page).Instance.SelectedValuesChanged.InvokeAsync([]));
        Assert.EndsWith("/?range=wellknown,registered&numeric=1", Navigation.Uri, StringComparison.Ordinal);
        page.WaitForAssertion(() => Assert.Equal(["8080"], LocalPorts(page)), WaitTimeout);
    }

    [Fact]
    public void Naming_only_this_host_or_an_unknown_one_is_said_plainly()
    {
        Navigation.NavigateTo("/?host=testhost");
        var page = Render<Connections>();
        page.WaitForAssertion(() => Assert.Equal(["8080"], LocalPorts(page)), WaitTimeout); // this node's own table

        Navigation.NavigateTo("/?host=web-9");
        page.WaitForAssertion(() => Assert.Contains("No host named web-9 in the fleet.", page.Find(".fleet-notice").TextContent, StringComparison.Ordinal), WaitTimeout);
        Assert.Empty(Rows(page));
    }

    [Fact]
    public void Listening_across_two_hosts_lists_both_hosts_listeners_with_their_host()
    {
        Navigation.NavigateTo("/listening?host=web-1,web-2");

        var page = Render<Listening>();

        page.WaitForAssertion(() => Assert.Equal(2, ListeningRows(page).Count), WaitTimeout);
        Assert.Equal([("web-1", "22"), ("web-2", "5432")],
            ListeningRows(page).Select(r => (r.QuerySelector("td.col-host")!.TextContent.Replace("stale", "", StringComparison.Ordinal).Trim(), r.QuerySelector("td.col-port")!.TextContent.Trim())).Order());
        Assert.Contains("row-stale", Assert.Single(ListeningRows(page), r => r.QuerySelector("td.col-port")!.TextContent.Trim() == "5432").ClassList);
    }

    [Fact]
    public void Ephemeral_reports_each_host_against_its_own_range()
    {
        Navigation.NavigateTo("/ephemeral?host=*");

        var page = Render<Ephemeral>();

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll(".host-pressure-table tbody tr").Count), WaitTimeout);
        var web2 = page.Find(".host-pressure-table tr[data-host=web-2]");
        Assert.StartsWith("1 ", web2.QuerySelector(".tcp-ports")!.TextContent.Trim(), StringComparison.Ordinal); // 15000 in 10000–20000
        Assert.Contains("row-stale", web2.ClassList);
        Assert.StartsWith("1 ", page.Find(".host-pressure-table tr[data-host=web-1] .tcp-ports").TextContent.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public void History_for_another_host_says_the_history_is_this_nodes_instead_of_showing_it()
    {
        Navigation.NavigateTo("/history?host=web-2");

        var page = Render<History>();

        page.WaitForAssertion(() => Assert.Contains("History is recorded by each dashboard for its own host only (testhost)",
            page.Find(".history-other-hosts").TextContent, StringComparison.Ordinal), WaitTimeout);
        Assert.Empty(page.FindAll(".scrubber")); // no moment of this node's history shown under web-2's name
        Assert.Empty(page.FindAll(".alive-grid"));
    }

    [Fact]
    public async Task Standalone_pages_show_no_host_picker_and_ignore_the_fleet()
    {
        await using var standalone = new StandaloneContext();
        standalone.Feed.SetCurrent(Snapshot(Start, _local));
        standalone.Navigation.NavigateTo("/?host=web-1");

        var page = standalone.Render<Connections>();

        page.WaitForAssertion(() => Assert.Equal(["8080"], LocalPorts(page)), WaitTimeout);
        Assert.Empty(page.FindAll(".host-picker"));
        Assert.Empty(page.FindAll("th.col-host"));
    }

    [Fact]
    public void The_picker_replaces_only_the_host_key()
    {
        Assert.Equal("http://x/?range=wellknown&group=process&host=a,b",
            HostPicker.WithHosts("http://x/?Host=z&range=wellknown&group=process", Filter.Parse("host=b,a")));
        Assert.Equal("http://x/listening", HostPicker.WithHosts("http://x/listening?host=z", Filter.Empty));
    }

    private sealed class StandaloneContext : DashboardTestContext
    {
        public new FakeSnapshotFeed Feed => base.Feed;

        public new Microsoft.AspNetCore.Components.NavigationManager Navigation => base.Navigation;
    }

    private FleetHost Host(string name, FleetHostStatus status, OsPortPolicy policy, params Core.Sockets.Socket[] sockets)
    {
        var snapshot = new Snapshot([.. sockets], Start, TimeSpan.FromMilliseconds(2), "netlink",
            new AttributionStatus(AttributionCompleteness.Complete, 10, 0), policy, name);
        var mapper = new WireMapper(ServiceNames, showCommandLine: false);
        var table = sockets.Select(s => FleetSocket.From(mapper.Socket(s, policy))).ToImmutableDictionary(s => s.Dto.Id);
        return FleetHost.New(name) with
        {
            Status = status,
            LastSeen = Start,
            Instance = "i-" + name,
            Instances = ["i-" + name],
            Sequence = 1,
            Metadata = mapper.Metadata(snapshot),
            Sockets = table,
            InSync = status == FleetHostStatus.Online,
        };
    }

    private static IRenderedComponent<MudSelect<string>> Picker(IRenderedComponent<Connections> page) =>
        Assert.Single(page.FindComponents<MudSelect<string>>(), s => s.Instance.Class == "host-picker-select");

    private static IReadOnlyList<IElement> Rows(IRenderedComponent<Connections> page) =>
        page.FindAll(".socket-grid tbody tr.mud-table-row");

    private static IReadOnlyList<IElement> ListeningRows(IRenderedComponent<Listening> page) =>
        page.FindAll(".listening-grid tbody tr.mud-table-row");

    private static string HostOf(IElement row) => row.QuerySelector("td.col-host span")!.TextContent.Trim();

    private static string PortOf(IElement row) => row.QuerySelector("td.col-local-port .port")!.TextContent.Trim();

    private static string[] LocalPorts(IRenderedComponent<Connections> page) => [.. Rows(page).Select(PortOf)];

    private static string[] HostPorts(IRenderedComponent<Connections> page) => [.. Rows(page).Select(r => $"{HostOf(r)}:{PortOf(r)}")];

    private static IElement Row(IRenderedComponent<Connections> page, string port) => Assert.Single(Rows(page), r => PortOf(r) == port);

    private static IElement PortCell(IRenderedComponent<Connections> page, string host, string port) =>
        Assert.Single(Rows(page), r => HostOf(r) == host && PortOf(r) == port).QuerySelector("td.col-local-port")!;
}
