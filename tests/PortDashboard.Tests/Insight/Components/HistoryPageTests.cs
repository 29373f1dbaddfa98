using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PortDashboard.Components.Pages;
using PortDashboard.Core.Sockets;
using PortDashboard.Insight;
using PortDashboard.Insight.History;
using PortDashboard.Tests.Components.Support;
using PortDashboard.Tests.Insight.Support;
using PortDashboard.Tests.Support;
using static PortDashboard.Tests.Components.Support.TestSockets;

namespace PortDashboard.Tests.Insight.Components;

/// <summary>The time machine page on a real SQLite file written by the real recorder and writer.</summary>
public sealed class HistoryPageTests : DashboardTestContext, IAsyncLifetime
{
    private static readonly ProcessInfo Api = Process("api", 4100);
    private static readonly ProcessInfo Psql = Process("psql", 4300);

    private readonly string _path = Path.Combine(Path.GetTempPath(), $"portdashboard-history-page-{Guid.NewGuid():N}.db");
    private readonly InsightTestHost _host = new();
    private HistoryWriter _writer = null!;

    private InsightState State => Services.GetRequiredService<InsightState>();

    public async ValueTask InitializeAsync()
    {
        var store = new HistoryStore(_path);
        var resume = store.Initialize();
        _writer = new HistoryWriter(Options.Create(new InsightOptions()), _host.Metrics, _host.Time, new ListLogger<HistoryWriter>());
        _writer.Attach(store);
        await _writer.StartAsync(Xunit.TestContext.Current.CancellationToken);
        var recorder = new HistoryRecorder(_writer, resume);

        // 11:55 the API listens; 11:56 psql connects to Postgres; 11:59 it is gone; 12:00 is now.
        var listener = Listener("0.0.0.0:8080", Api);
        var psql = Tcp("10.0.0.1:40001", "10.0.0.5:5432", SocketState.Established, Psql);
        var previous = PortDashboard.Core.Sockets.Snapshot.Empty;
        foreach (var (at, sockets) in new[] { (Start.AddMinutes(-5), new[] { listener }), (Start.AddMinutes(-4), [listener, psql]), (Start.AddMinutes(-1), [listener]) })
        {
            var next = Snapshot(at, sockets);
            await recorder.ApplyAsync(next, [Delta.Between(previous, next)], false, [], Xunit.TestContext.Current.CancellationToken);
            previous = next;
        }

        await _writer.FlushAsync(Xunit.TestContext.Current.CancellationToken);
        State.SetHistory(new HistoryStatus(true, store.Path, null), store);
    }

    public new async ValueTask DisposeAsync()
    {
        await _writer.StopAsync(CancellationToken.None);
        _writer.Dispose();
        _host.Dispose();
        await base.DisposeAsync();
        foreach (var file in new[] { _path, _path + "-wal", _path + "-shm" })
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Scrubbing_back_shows_the_table_as_it_was_what_was_connected_to_postgres_three_minutes_ago()
    {
        Navigation.NavigateTo("history?at=-3m&port=5432");

        var page = Render<History>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll(".alive-grid tbody tr.mud-table-row")), WaitTimeout);
        var row = page.Find(".alive-grid tbody tr.mud-table-row");
        Assert.Equal("10.0.0.5:5432", row.QuerySelector(".col-remote")!.TextContent.Trim());
        Assert.Equal("psql (4300)", row.QuerySelector(".col-process")!.TextContent.Trim());
        Assert.Equal("1m 00s", row.QuerySelector(".col-age")!.TextContent.Trim()); // born 11:56, seen at 11:57
        Assert.StartsWith("closed ", row.QuerySelector(".col-then")!.TextContent.Trim(), StringComparison.Ordinal);
        Assert.Equal("2026-05-01T11:57:00Z", page.Find(".at").GetAttribute("data-at"));
        Assert.Contains("port=5432", page.Find(".other-criteria").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Now_the_connection_is_gone_and_jumping_back_a_few_minutes_brings_it_back()
    {
        var page = Render<History>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll(".alive-grid tbody tr.mud-table-row")), WaitTimeout); // the listener only

        page.Find(".jump[data-minutes='5']").Click(); // now − 5 min = 11:55: the listener, open since 11:55

        page.WaitForAssertion(() => Assert.EndsWith("?at=2026-05-01T11%3A55%3A00Z", Navigation.Uri, StringComparison.Ordinal), WaitTimeout);
        page.WaitForAssertion(() => Assert.Equal("2026-05-01T11:55:00Z", page.Find(".at").GetAttribute("data-at")), WaitTimeout);
        page.Find(".jump[data-minutes='1']").Click(); // 11:54: before anything was seen
        page.WaitForAssertion(() => Assert.Contains("No socket was open then", page.Find(".alive-grid").TextContent, StringComparison.Ordinal), WaitTimeout);
    }

    [Fact]
    public void Lifetimes_per_process_and_per_minute_counts_cover_the_hour_up_to_the_moment()
    {
        var page = Render<History>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll(".lifetime-table tbody tr")), WaitTimeout);
        var psql = page.Find(".lifetime-table tbody tr");
        Assert.Equal("psql", psql.GetAttribute("data-process"));
        var buckets = psql.QuerySelectorAll("td.bucket").Select(c => c.TextContent).ToList();
        Assert.Equal(["", "", "", "", "1", "", ""], buckets); // 3 minutes: "1–10 min"
        var perMinute = page.Find(".per-minute");
        Assert.Equal("60", perMinute.GetAttribute("data-minutes"));
        Assert.Equal("1", perMinute.GetAttribute("data-opened")); // psql; the listener was open at start
        Assert.Equal("1", perMinute.GetAttribute("data-closed"));
        var pairs = perMinute.QuerySelectorAll("g.pair"); // 11:56 (psql opened) and 11:59 (it closed)
        Assert.Equal(2, pairs.Length);
        Assert.EndsWith("1 opened, 0 closed", pairs[0].QuerySelector("title")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_time_in_the_address_is_reported_and_now_is_shown()
    {
        Navigation.NavigateTo("history?at=yesterday");

        var page = Render<History>();

        Assert.Contains("'yesterday' is not a time", page.Find(".time-error").TextContent, StringComparison.Ordinal);
        Assert.Equal("now", page.Find(".ago").TextContent.Trim('(', ')'));
    }
}
