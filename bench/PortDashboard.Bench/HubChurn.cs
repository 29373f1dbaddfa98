using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using PortDashboard.Hubs;

namespace PortDashboard.Bench;

/// <summary>
/// Hub connection churn for a set time (issue 13): the app (1 Hz polling) on the current table, one staying JSON client
/// (whole table) measuring its deltas' delay and gaps, and new hub connections started at a fixed rate, each with a
/// filter and protocol in turn; each waits for its first Snapshot, stays a moment and leaves in one of three ways (a
/// clean close, an abort without the closing handshake, or a close right after Subscribe without waiting). Every
/// second it samples the app's RSS, the thread pool's threads and queue (the runtime's counters on /metrics) and the
/// time /metrics took to answer. At the end the hub-connection and subscriber gauges must be back at their base.
/// </summary>
internal static class HubChurn
{
    /// <summary>Filters of the churning clients, in turn (null: the whole table).</summary>
    private static readonly string?[] Filters =
        ["port=1", "proto=tcp&state=listen", "range=ephemeral&proto=tcp", null, "address=127.0.0.2", "port=20000", "state=time-wait", "range=wellknown,registered"];

    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(Arguments args)
    {
        var app = Path.GetFullPath(args.String("app") ?? throw new ArgumentException("--app <path to PortDashboard.dll> is required"));
        var seconds = args.Int("seconds", 60);
        var rate = args.Double("rate", 20);
        var warmup = TimeSpan.FromSeconds(args.Int("warmup", 10));
        var port = args.Int("port", 5282);
        var maxStay = TimeSpan.FromMilliseconds(args.Int("max-stay-ms", 2000));
        if (seconds is < 5 or > 300 || rate is <= 0 or > 200)
        {
            throw new ArgumentException("--seconds must be 5 to 300 and --rate (connections/s) above 0 and at most 200: a run is bounded");
        }

        var environment = AppProcess.ParseEnvironment(args.String("env"));
        environment.Add(new("PortDashboard__Limits__HubConnections", "1000"));
        await using var server = AppProcess.Start(app, port, TimeSpan.FromSeconds(1), environment);
        HubClient? staying = null;
        try
        {
            var baseUri = new Uri($"http://127.0.0.1:{port}");
            using var http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(15) };
            await server.WaitHealthyAsync(baseUri, TimeSpan.FromSeconds(120));
            var hub = new Uri($"ws://127.0.0.1:{port}{SocketsHub.Path}");
            staying = await HubClient.ConnectAsync(hub, "staying JSON, whole table", messagePack: false, null);
            await staying.FirstSnapshot.WaitAsync(TimeSpan.FromSeconds(60));
            await Task.Delay(warmup);

            var before = await ServerMetrics.ScrapeWithinAsync(http, TimeSpan.FromSeconds(60));
            var rssBefore = ServerLoad.StatusKb(server.Id, "VmRSS:");
            var baselineDelays = staying.DelaysBetween(DateTimeOffset.UtcNow - warmup, DateTimeOffset.UtcNow);
            var sockets = Timings.SocketCount();

            var firstSnapshot = new ConcurrentBag<double>();
            var failures = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
            var left = new int[3];
            var running = new List<Task>();
            var samples = new List<(double Threads, double Queue, double OpenConnections, double ScrapeMs, long RssKb)>();
            var started = 0;
            var scrapeFailures = 0;
            var gapsBefore = staying.Gaps;
            var churnStart = DateTimeOffset.UtcNow;
            var (cpuBefore, clock) = (ServerLoad.CpuSeconds(server.Id), Stopwatch.StartNew());
            var nextSample = TimeSpan.Zero;
            var workItemsBefore = before.GetValueOrDefault("dotnet_thread_pool_work_item_count_total");
            while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
            {
                if (clock.Elapsed >= nextSample)
                {
                    nextSample += TimeSpan.FromSeconds(1);
                    running.Add(SampleAsync());
                }

                var due = (int)(clock.Elapsed.TotalSeconds * rate) + 1;
                while (started < due)
                {
                    var n = started++;
                    running.Add(Task.Run(() => OneAsync(n)));
                }

                await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(1, 1000 / rate / 2)));
            }

            var churnSeconds = clock.Elapsed.TotalSeconds;
            await Task.WhenAll(running);
            var scrapes = samples.Count + scrapeFailures;
            if (samples.Count == 0)
            {
                samples.Add((double.NaN, double.NaN, double.NaN, double.NaN, 0)); // every scrape failed: the figures say NaN
            }

            var cpu = (ServerLoad.CpuSeconds(server.Id) - cpuBefore) / clock.Elapsed.TotalSeconds;
            var churnEnd = DateTimeOffset.UtcNow;
            var churnDelays = staying.DelaysBetween(churnStart, churnEnd);

            // Back at base: every churning connection gone from the hub and the feed.
            var recovery = Stopwatch.StartNew();
            Dictionary<string, double> after;
            bool AtBase(Dictionary<string, double> m) =>
                m.GetValueOrDefault("portdashboard_hub_connections") <= before.GetValueOrDefault("portdashboard_hub_connections")
                && m.GetValueOrDefault("portdashboard_subscribers") <= before.GetValueOrDefault("portdashboard_subscribers");
            while (!AtBase(after = await ServerMetrics.ScrapeWithinAsync(http, TimeSpan.FromSeconds(60))) && recovery.Elapsed < Recovery)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }

            var atBase = AtBase(after);
            var rssAfter = ServerLoad.StatusKb(server.Id, "VmRSS:");
            var succeeded = firstSnapshot.Count;
            var connectMs = firstSnapshot.Order().ToList();
            var scrapeMs = samples.Select(s => s.ScrapeMs).Order().ToList();
            double P(List<double> sorted, double p) => ServerMetrics.Percentile(sorted, p);
            var workItems = after.GetValueOrDefault("dotnet_thread_pool_work_item_count_total") - workItemsBefore;

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Hub connection churn at 1 Hz polling on {sockets:N0} sockets: {rate:F0} connections/s asked for {seconds} s, each staying up to {maxStay.TotalMilliseconds:F0} ms after its first Snapshot; filters and protocols in turn; load average {Timings.Load()}:"));
            Console.WriteLine();
            Console.WriteLine("| figure | value |");
            Console.WriteLine("|---|---:|");
            Row("connections started / achieved per second", $"{started:N0} / {started / churnSeconds:F1}");
            Row("got their first Snapshot (or left right after Subscribe, by design)", $"{succeeded:N0} + {left[2]:N0}");
            Row("left: clean close / abort / close right after Subscribe", $"{left[0]:N0} / {left[1]:N0} / {left[2]:N0}");
            Row("failed", failures.IsEmpty ? "0" : string.Join("; ", failures.Select(f => $"{f.Value} × {f.Key}")));
            Row("connect → first Snapshot p50 / p95 / max", $"{P(connectMs, 0.5):F0} / {P(connectMs, 0.95):F0} / {P(connectMs, 1):F0} ms");
            Row("hub connections open at once, highest (the app's gauge)", $"{samples.Max(s => s.OpenConnections):F0}");
            Row("thread pool threads: base → highest → end", $"{before.GetValueOrDefault("dotnet_thread_pool_thread_count_total"):F0} → {samples.Max(s => s.Threads):F0} → {after.GetValueOrDefault("dotnet_thread_pool_thread_count_total"):F0}");
            Row("thread pool queue length: mean / highest (sampled each second)", $"{samples.Average(s => s.Queue):F1} / {samples.Max(s => s.Queue):F0}");
            Row("thread pool work items completed", $"{workItems:N0} ({workItems / clock.Elapsed.TotalSeconds:N0}/s)");
            Row("/metrics answered in p50 / max (a starved pool would show here)", $"{P(scrapeMs, 0.5):F0} / {P(scrapeMs, 1):F0} ms; {scrapeFailures} of {scrapes} not within {http.Timeout.TotalSeconds:F0} s");
            Row("server CPU, share of one core", $"{cpu * 100:F0}%");
            Row("RSS before → highest → after", $"{rssBefore / 1024.0:F0} → {samples.Max(s => s.RssKb) / 1024.0:F0} → {rssAfter / 1024.0:F0} MB");
            Row("staying client: delay p50 / p95, before → during", $"{P(baselineDelays, 0.5):F0} / {P(baselineDelays, 0.95):F0} → {P(churnDelays, 0.5):F0} / {P(churnDelays, 0.95):F0} ms");
            Row("staying client: gaps / resyncs / open", $"{staying.Gaps - gapsBefore} / {staying.Resyncs} / {(staying.Open ? "yes" : $"NO: {staying.ClosedBecause}")}");
            Row("hub connections: base → end", $"{before.GetValueOrDefault("portdashboard_hub_connections"):F0} → {after.GetValueOrDefault("portdashboard_hub_connections"):F0}");
            Row("subscribers (pages, hub, in-process): base → end", $"{before.GetValueOrDefault("portdashboard_subscribers"):F0} → {after.GetValueOrDefault("portdashboard_subscribers"):F0}");
            Row("back at base", atBase ? $"yes, {recovery.Elapsed.TotalSeconds:F1} s after the last client left" : $"NO after {Recovery.TotalSeconds:F0} s");
            return atBase && failures.IsEmpty && staying.Open && staying.Gaps == gapsBefore && staying.Resyncs == 0 ? 0 : 1;

            async Task SampleAsync()
            {
                var watch = Stopwatch.StartNew();
                Dictionary<string, double> metrics;
                try
                {
                    metrics = await ServerMetrics.ScrapeAsync(http);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    Interlocked.Increment(ref scrapeFailures); // a figure of its own: the app did not answer in time
                    return;
                }

                var sample = (metrics.GetValueOrDefault("dotnet_thread_pool_thread_count_total"), metrics.GetValueOrDefault("dotnet_thread_pool_queue_length_total"),
                    metrics.GetValueOrDefault("portdashboard_hub_connections"), watch.Elapsed.TotalMilliseconds, ServerLoad.StatusKb(server.Id, "VmRSS:"));
                lock (samples)
                {
                    samples.Add(sample);
                }
            }

            async Task OneAsync(int n)
            {
                var filter = Filters[n % Filters.Length];
                var messagePack = n / Filters.Length % 2 == 1;
                var way = n % 3;
                HubClient? client = null;
                try
                {
                    var watch = Stopwatch.StartNew();
                    using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(30)); // a connect given up leaves nothing open
                    client = await HubClient.ConnectAsync(hub, $"churn {n}", messagePack, filter, cancellationToken: giveUp.Token);
                    if (way == 2)
                    {
                        await client.DisposeAsync(); // leaves right after Subscribe: maybe before the hub has subscribed it
                        client = null;
                        Interlocked.Increment(ref left[2]);
                        return;
                    }

                    await client.FirstSnapshot.WaitAsync(TimeSpan.FromSeconds(30));
                    firstSnapshot.Add(watch.Elapsed.TotalMilliseconds);
                    await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * maxStay.TotalMilliseconds));
                    if (way == 1)
                    {
                        client.Abort();
                    }

                    await client.DisposeAsync();
                    client = null;
                    Interlocked.Increment(ref left[way]);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    var reason = System.Text.RegularExpressions.Regex.Replace(e.Message, @"^churn \d+: ", "");
                    failures.AddOrUpdate($"{e.GetType().Name}: {reason}", 1, (_, c) => c + 1);
                }
                finally
                {
                    if (client is not null)
                    {
                        await client.DisposeAsync();
                    }
                }
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"hub churn failed: {e.Message}");
            server.WriteOutput(Console.Error);
            return 1;
        }
        finally
        {
            if (staying is not null)
            {
                await staying.DisposeAsync();
            }
        }
    }

    private static void Row(string figure, string value) => Console.WriteLine($"| {figure} | {value} |");
}
