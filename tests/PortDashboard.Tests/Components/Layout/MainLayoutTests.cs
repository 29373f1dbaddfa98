using Bunit;
using Microsoft.AspNetCore.Components;
using PortDashboard.Components.Layout;
using PortDashboard.Components.Pages;
using PortDashboard.Core.Sockets;
using Microsoft.Extensions.DependencyInjection;
using PortDashboard.Monitoring;
using PortDashboard.Tests.Components.Support;
using static PortDashboard.Tests.Components.Support.TestSockets;

namespace PortDashboard.Tests.Components.Layout;

public sealed class MainLayoutTests : DashboardTestContext
{
    [Fact]
    public void The_header_shows_host_os_port_policy_poll_interval_and_live_state()
    {
        Feed.SetCurrent(Snapshot(Start, Listener("0.0.0.0:22")));
        Feed.SetStatus(new SnapshotServiceStatus(TimeSpan.FromMilliseconds(500), Start, null, 0));

        var layout = RenderLayout(_ => { });

        var header = layout.Find(".dashboard-header");
        Assert.Equal(HostName, header.QuerySelector(".host")!.TextContent);
        Assert.Equal("ephemeral 32768–60999 · privileged < 1024", header.QuerySelector(".policy")!.TextContent);
        Assert.Equal("poll 0.5 s", header.QuerySelector(".poll")!.TextContent);
        Assert.Equal("Live", header.QuerySelector(".live-state")!.TextContent);
        Assert.Empty(layout.FindAll(".feed-failure"));
        Assert.Equal(4, layout.FindAll("nav.app-nav a").Count); // Connections, Listening, Ephemeral ports, History
    }

    [Fact]
    public void Without_sign_in_the_header_has_no_account_link()
    {
        Feed.SetCurrent(Snapshot(Start, Listener("0.0.0.0:22")));

        Assert.Empty(RenderLayout(_ => { }).FindAll("a.account-link"));
    }

    [Fact]
    public void With_sign_in_on_the_header_links_to_the_account_page_to_sign_out()
    {
        Services.Configure<PortDashboard.Security.AuthOptions>(options => options.Token = "a-token-of-at-least-some-length");
        Feed.SetCurrent(Snapshot(Start, Listener("0.0.0.0:22")));

        var layout = RenderLayout(_ => { });

        Assert.Equal("login", layout.Find("a.account-link").GetAttribute("href"));
    }

    [Fact]
    public void A_failing_service_shows_a_banner_with_the_error_and_the_age_of_the_last_good_snapshot()
    {
        Feed.SetCurrent(Snapshot(Start, Listener("0.0.0.0:22")));
        var layout = RenderLayout(_ => { });
        Assert.Empty(layout.FindAll(".feed-failure"));

        Time.Advance(TimeSpan.FromSeconds(42));
        Feed.SetStatus(new SnapshotServiceStatus(TimeSpan.FromSeconds(1), Start, "/proc/net/tcp: Permission denied", 3));

        var banner = layout.WaitForElement(".feed-failure", WaitTimeout);
        Assert.Contains("/proc/net/tcp: Permission denied", banner.TextContent, StringComparison.Ordinal);
        Assert.Contains("3 attempts in a row", banner.TextContent, StringComparison.Ordinal);
        Assert.Contains("taken 42s ago", banner.TextContent, StringComparison.Ordinal);
        Assert.Equal("Stale", layout.Find(".live-state").TextContent);

        // The age keeps counting while the failure lasts.
        Time.Advance(TimeSpan.FromSeconds(10));
        layout.WaitForAssertion(() => Assert.Contains("taken 52s ago", layout.Find(".feed-failure").TextContent, StringComparison.Ordinal), WaitTimeout);

        // Recovery removes the banner.
        Feed.SetStatus(new SnapshotServiceStatus(TimeSpan.FromSeconds(1), Start.AddSeconds(53), null, 0));
        layout.WaitForAssertion(() => Assert.Empty(layout.FindAll(".feed-failure")), WaitTimeout);
        Assert.Equal("Live", layout.Find(".live-state").TextContent);
    }

    [Fact]
    public void A_service_that_never_succeeded_says_so()
    {
        Feed.SetStatus(new SnapshotServiceStatus(TimeSpan.FromSeconds(1), null, "no socket table reader works here", 1));

        var layout = RenderLayout(_ => { });

        var banner = layout.Find(".feed-failure");
        Assert.Contains("no socket table reader works here", banner.TextContent, StringComparison.Ordinal);
        Assert.Contains("1 attempt in a row", banner.TextContent, StringComparison.Ordinal);
        Assert.Contains("no snapshot has been taken yet", banner.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Pausing_the_connections_page_shows_in_the_header()
    {
        Feed.SetCurrent(Snapshot(Start, Listener("0.0.0.0:22", Process("sshd", 812))));
        var layout = RenderLayout(body =>
        {
            body.OpenComponent<Connections>(0);
            body.CloseComponent();
        });
        layout.WaitForAssertion(() => Assert.Single(layout.FindAll(".socket-grid tbody tr.mud-table-row")), WaitTimeout);

        layout.Find(".pause-button").Click();

        layout.WaitForAssertion(() => Assert.Equal("Paused", layout.Find(".live-state").TextContent), WaitTimeout);
        layout.Find(".pause-button").Click();
        layout.WaitForAssertion(() => Assert.Equal("Live", layout.Find(".live-state").TextContent), WaitTimeout);
    }

    private IRenderedComponent<MainLayout> RenderLayout(RenderFragment body) =>
        Render<MainLayout>(parameters => parameters.Add(p => p.Body, body));
}
