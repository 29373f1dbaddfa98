using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using PortDashboard.Components.Controls.Insight;
using PortDashboard.Components.Pages;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;
using PortDashboard.Insight;
using PortDashboard.Insight.Pressure;
using PortDashboard.Insight.ShortLived;
using PortDashboard.Tests.Components.Support;
using PortDashboard.Tests.Insight.Support;
using static PortDashboard.Tests.Components.Support.TestSockets;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Tests.Insight.Components;

public sealed class EphemeralPageTests : DashboardTestContext
{
    private static readonly OsPortPolicy SmallRange = new(40000, 40099, 1024);

    private readonly InsightTestHost _host = new();

    private InsightState State => Services.GetRequiredService<InsightState>();

    protected override void Dispose(bool disposing)
    {
        _host.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>A pressure view of <paramref name="toPostgres"/> and <paramref name="toRedis"/> connections in a 100-port range.</summary>
    private PressureView View(int toPostgres, int toRedis, IReadOnlyList<ClosedSocket>? shortLived = null)
    {
        var sockets = Enumerable.Range(0, toPostgres).Select(i => Tcp($"10.0.0.1:{40000 + i}", "10.0.0.5:5432", i % 2 == 0 ? SocketState.TimeWait : SocketState.Established))
            .Concat(Enumerable.Range(0, toRedis).Select(i => Tcp($"10.0.0.1:{40000 + i}", "10.0.0.6:6379", SocketState.Established)));
        var snapshot = new Snapshot([.. sockets], Start, TimeSpan.Zero, "test", new AttributionStatus(AttributionCompleteness.Complete, 1, 0), SmallRange, HostName);
        var monitor = new PressureMonitor(new PressureOptions(), _host.Metrics, NullLogger.Instance);
        return monitor.Apply(snapshot, [Delta.Between(Snapshot(Start), snapshot)], shortLived ?? []);
    }

    private static ShortLivedView Capturing(params ClosedSocket[] recent) =>
        new(new DestroyCaptureStatus(true, null), recent.Length, recent.Count(c => c.ShortLived), 0, [.. recent], []);

    [Fact]
    public void Each_destination_over_a_threshold_gets_an_alert_the_worst_first_and_a_gauge()
    {
        State.Publish(View(toPostgres: 95, toRedis: 72), Capturing());

        var page = Render<Ephemeral>();

        var alerts = page.FindAll(".pressure-alert");
        Assert.Equal(["critical", "critical", "warning"], alerts.Select(a => a.GetAttribute("data-level")!.ToLowerInvariant()));
        Assert.Contains("TCP holds 95 % of the OS ephemeral range", alerts[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("10.0.0.5:5432 holds 95 % of the ports it can use (95 of 100, 48 in TIME-WAIT)", alerts[1].TextContent, StringComparison.Ordinal);
        Assert.Contains("10.0.0.6:6379 holds 72 %", alerts[2].TextContent, StringComparison.Ordinal);

        var gauges = page.FindComponents<DestinationGauge>();
        Assert.Equal(2, gauges.Count);
        Assert.Contains("level-critical", gauges[0].Find(".destination-gauge").ClassList);
        Assert.Equal("95 %", gauges[0].Find(".percent").TextContent);
        var rows = page.FindAll(".destination-table tbody tr");
        Assert.Equal(["10.0.0.5:5432", "10.0.0.6:6379"], rows.Select(r => r.GetAttribute("data-destination")));
        Assert.Equal("95", rows[0].QuerySelector(".ports")!.TextContent);
        Assert.Equal("51 %", page.Find("[data-card=time-wait] .value").TextContent.Trim()); // 48 of the 95 TCP ports in use
    }

    [Fact]
    public void Without_the_capability_the_page_says_short_lived_connections_are_not_captured_and_how_to_enable_it()
    {
        State.Publish(View(10, 0), new ShortLivedView(new DestroyCaptureStatus(false, "not permitted: socket-destroy notifications need CAP_NET_ADMIN"), 0, 0, 0, [], []));

        var page = Render<Ephemeral>();

        var notice = page.Find(".capture-notice").TextContent;
        Assert.Contains("Short-lived connections (opened and closed between two polls) are not captured: not permitted", notice, StringComparison.Ordinal);
        Assert.Contains("Run PortDashboard as root, or give it CAP_NET_ADMIN", notice, StringComparison.Ordinal);
        Assert.Equal("—", page.Find("[data-card=short-lived] .value").TextContent.Trim());
        Assert.Empty(page.FindAll(".pressure-alert"));
    }

    [Fact]
    public void The_heatmap_draws_a_cell_per_busy_slice_and_time_slot_and_the_list_shows_sockets_seen_closing_with_their_owner()
    {
        var api = Process("api", 4100);
        var closed = new ClosedSocket(Tcp("10.0.0.1:40090", "10.0.0.5:5432", SocketState.Close), Start, ShortLived: true, api, OwnerSource.SameDestination);
        State.Publish(View(20, 0, [closed]), Capturing(closed));

        var page = Render<Ephemeral>();

        var heatmap = page.Find(".heatmap");
        Assert.Equal("64", heatmap.GetAttribute("data-buckets"));
        Assert.Equal("21", heatmap.GetAttribute("data-total")); // 20 opened, 1 seen only closing
        var cells = page.FindAll("rect.cell");
        Assert.Equal(14, cells.Count); // 20 ports over slices of 100/64 ports: 13 slices, plus the short-lived one's
        Assert.Contains("new on ports 40000–40001", cells[0].QuerySelector("title")!.TextContent, StringComparison.Ordinal);

        var row = page.Find(".closed-table tbody tr");
        Assert.Contains("short-lived", row.ClassList);
        Assert.Contains("likely api (4100)", row.TextContent, StringComparison.Ordinal);
        Assert.Contains("between polls", row.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void New_insight_is_shown_at_the_next_refresh_tick()
    {
        State.Publish(View(10, 0), Capturing());
        var page = Render<Ephemeral>();
        Assert.Empty(page.FindAll(".pressure-alert"));

        State.Publish(View(80, 0), Capturing());
        Time.Advance(TimeSpan.FromSeconds(1)); // the next re-check

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll(".pressure-alert").Count), WaitTimeout);
    }

    [Fact]
    public void The_summary_on_the_connections_page_names_the_busiest_destination_and_links_to_the_page()
    {
        State.Publish(View(75, 0), Capturing());

        var summary = Render<PressureSummary>();

        Assert.Equal("warning", summary.Find(".pressure-summary").GetAttribute("data-level"));
        Assert.Contains("busiest 10.0.0.5:5432 75 %", summary.Find(".top").TextContent, StringComparison.Ordinal);
        Assert.Equal("ephemeral", summary.Find("a.more").GetAttribute("href"));
    }
}
