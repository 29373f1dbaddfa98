using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Sockets;
using PortDashboard.Hosting;
using PortDashboard.Insight;
using PortDashboard.Insight.History;
using PortDashboard.Monitoring;

// Measures the snapshot service's tick with and without the insight services (pressure, short-lived capture, history
// writes, listener watch) subscribed to the feed, on this machine's real socket table while a load generator churns it.
//
//   PortDashboard.InsightBench --insight on|off --ticks 60 --history /tmp/h.db --max-rows 200000
//
// The tick is timed here, doing exactly what SnapshotService.Tick does on success: Snapshotter.Take, Delta.Between, and
// SnapshotFeed.Publish (the service itself is not started). Insight runs as in the app: a feed subscriber on its own loop.
// Prints one line per tick and a summary.

var options = Args.Parse(args);
var builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders();
builder.Configuration["PortDashboard:History:Path"] = options.HistoryPath;
builder.Configuration["PortDashboard:History:MaxRows"] = options.MaxRows.ToString(CultureInfo.InvariantCulture);
builder.Services.AddOptions<PortDashboardOptions>().Configure(o =>
{
    o.PollInterval = TimeSpan.FromSeconds(1);
    o.MinimumBatchInterval = TimeSpan.FromMilliseconds(100);
});
builder.Services.AddPortDashboardMonitoring();
builder.Services.RemoveAll<IHostedService>(); // the snapshot service: this program drives the ticks
if (options.Insight)
{
    builder.Services.AddPortDashboardInsight();
}

// The insight loop's own time per batch, from its histogram.
var insightSeconds = new List<double>();
using var listener = new System.Diagnostics.Metrics.MeterListener();
listener.InstrumentPublished = (instrument, l) =>
{
    if (instrument.Meter.Name == InsightMetrics.MeterName && instrument.Name == "portdashboard.insight.batch.duration")
    {
        l.EnableMeasurementEvents(instrument);
    }
};
listener.SetMeasurementEventCallback<double>((_, value, _, _) =>
{
    lock (insightSeconds)
    {
        insightSeconds.Add(value);
    }
});
listener.Start();

using var host = builder.Build();
await host.StartAsync();
var snapshotter = host.Services.GetRequiredService<Snapshotter>();
var feed = host.Services.GetRequiredService<SnapshotFeed>();
var time = host.Services.GetRequiredService<TimeProvider>();
feed.MarkStarted(time.GetUtcNow());

var previous = Snapshot.Empty;
var sequence = 0L;
var ticks = new List<(double Ms, int Sockets, int Added)>();
using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
for (var i = 0; i < options.Ticks + options.Warmup; i++)
{
    await timer.WaitForNextTickAsync();
    var started = Stopwatch.GetTimestamp();
    var current = snapshotter.Take();
    var delta = Delta.Between(previous, current) with { Sequence = ++sequence };
    feed.Publish(current, delta);
    var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    previous = current;
    if (i >= options.Warmup)
    {
        ticks.Add((ms, current.Count, delta.Added.Length));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"tick {i - options.Warmup + 1,3}: {ms,7:0.00} ms, {current.Count,6} sockets, +{delta.Added.Length} -{delta.Removed.Length}"));
    }
}

var sorted = ticks.Select(t => t.Ms).Order().ToList();
double Percentile(double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
var summary = string.Create(CultureInfo.InvariantCulture,
    $"insight {(options.Insight ? "on " : "off")}: {ticks.Count} ticks, mean {sorted.Average():0.00} ms, p50 {Percentile(0.5):0.00} ms, p95 {Percentile(0.95):0.00} ms, max {sorted[^1]:0.00} ms; {ticks.Average(t => t.Sockets):0} sockets, {ticks.Average(t => t.Added):0} births/s");
if (options.Insight)
{
    var state = host.Services.GetRequiredService<InsightState>();
    var writer = host.Services.GetRequiredService<HistoryWriter>();
    var bound = host.Services.GetRequiredService<IOptions<InsightOptions>>().Value.History.MaxRows;
    lock (insightSeconds)
    {
        if (insightSeconds.Count > 0)
        {
            summary += string.Create(CultureInfo.InvariantCulture, $"; insight loop {insightSeconds.Count} batches, mean {insightSeconds.Average() * 1000:0.0} ms, max {insightSeconds.Max() * 1000:0.0} ms");
        }
    }

    if (state.Store is { } store)
    {
        var extent = await store.ExtentAsync();
        summary += string.Create(CultureInfo.InvariantCulture,
            $"; history: {writer.Written} writes, {writer.Queued} queued, {writer.Pruned} pruned, {extent.Rows} rows (bound {bound}), {extent.FileBytes / 1048576.0:0.0} MB; short-lived seen {state.ShortLived.ShortLived}");
    }
    else
    {
        summary += $"; history unavailable: {state.History.Error}";
    }
}

Console.WriteLine(summary);
await host.StopAsync();
return 0;

internal sealed record Args(bool Insight, int Ticks, int Warmup, string HistoryPath, int MaxRows)
{
    public static Args Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            values[args[i].TrimStart('-')] = args[i + 1];
        }

        int Int(string name, int fallback) => values.TryGetValue(name, out var text) ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;
        return new Args(
            values.GetValueOrDefault("insight", "on") == "on",
            Int("ticks", 60),
            Int("warmup", 5),
            values.GetValueOrDefault("history", Path.Combine(Path.GetTempPath(), $"portdashboard-bench-{Guid.NewGuid():N}.db")),
            Int("max-rows", 200_000));
    }
}
