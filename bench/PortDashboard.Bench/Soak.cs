using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;
using PortDashboard.Hubs;

namespace PortDashboard.Bench;

/// <summary>
/// The soak of issue 13: the app (published, 1 Hz polling) runs for a set time on the table the load generator holds
/// and churns, with hub clients (JSON and MessagePack, whole table and filtered) and headless chromium pages open.
/// After a warm-up it reports RSS growth, the tick time (each snapshot's own duration, read from its metadata),
/// GC pauses (the runtime's counters on /metrics), sequence gaps and resyncs seen by the clients, and the history's
/// rows against its bound. Stops by itself; the app and the browser are killed on the way out.
/// </summary>
internal static class Soak
{
    /// <summary>Filters of the filtered hub clients and pages, in turn: idle, one listener port's slice, one address's slice.</summary>
    private static readonly string[] Filters = ["port=1", "port=20000", "port=20003", "address=127.0.0.2"];

    public static async Task<int> RunAsync(Arguments args)
    {
        var app = Path.GetFullPath(args.String("app") ?? throw new ArgumentException("--app <path to the published PortDashboard.dll> is required"));
        var minutes = args.Double("minutes", 10);
        var warmup = TimeSpan.FromSeconds(args.Int("warmup", 60));
        var hubClients = args.Int("hub-clients", 50);
        var pages = args.Int("pages", 5);
        var port = args.Int("port", 5197);
        var maxRows = args.Int("history-max-rows", 200_000);
        var chromium = args.String("chromium") ?? "/usr/bin/chromium";
        if (minutes is <= 0 or > 60 || hubClients is < 0 or > 500 || pages is < 0 or > 20)
        {
            throw new ArgumentException("--minutes must be in (0, 60], --hub-clients in [0, 500], --pages in [0, 20]: a soak is bounded");
        }

        var duration = TimeSpan.FromMinutes(minutes);
        var historyDirectory = Directory.CreateTempSubdirectory("pd-soak-");
        await using var server = AppProcess.Start(app, port, TimeSpan.FromSeconds(1),
        [
            new("PortDashboard__History__Path", Path.Combine(historyDirectory.FullName, "history.db")),
            new("PortDashboard__History__MaxRows", maxRows.ToString(CultureInfo.InvariantCulture)),
        ]);
        var clients = new List<HubClient>();
        IPlaywright? playwright = null;
        IBrowser? browser = null;
        try
        {
            var baseUri = new Uri($"http://127.0.0.1:{port}");
            using var http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(20) };
            await server.WaitHealthyAsync(baseUri, TimeSpan.FromSeconds(120));
            var socketsAtStart = Timings.SocketCount();

            var hub = new Uri($"ws://127.0.0.1:{port}{SocketsHub.Path}");
            for (var i = 0; i < hubClients; i++)
            {
                var messagePack = i % 2 == 1;
                var filter = i % 10 < 2 ? null : Filters[i % Filters.Length]; // a fifth take the whole table
                clients.Add(await HubClient.ConnectAsync(hub, $"{(messagePack ? "MessagePack" : "JSON")} {filter ?? "whole table"}", messagePack, filter));
            }

            var openPages = new List<IPage>();
            if (pages > 0)
            {
                playwright = await Playwright.CreateAsync();
                browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
                {
                    ExecutablePath = chromium,
                    Headless = true,
                    Args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking"],
                });
                for (var i = 0; i < pages; i++)
                {
                    var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1440, Height = 900 } });
                    await page.GotoAsync(new Uri(baseUri, i == 0 ? "/" : $"/?{Filters[i % Filters.Length]}").ToString());
                    await page.Locator(".socket-grid").WaitForAsync(new LocatorWaitForOptions { Timeout = 120_000 });
                    openPages.Add(page);
                }
            }

            Console.Error.WriteLine($"soak: {hubClients} hub clients and {pages} pages open on {socketsAtStart} sockets; {warmup.TotalSeconds:F0} s warm-up, then {duration.TotalMinutes:F1} min");
            var clock = Stopwatch.StartNew();
            var runStart = DateTimeOffset.UtcNow;
            var ticks = new Dictionary<string, double>(StringComparer.Ordinal); // takenAt → duration (ms), after the warm-up
            var rss = new List<(double Seconds, long Kb)>();
            var apiFailures = 0;
            Dictionary<string, double>? metricsAtStart = null;
            long rssAtStart = 0;
            double cpuAtStart = 0;
            var end = warmup + duration;
            while (clock.Elapsed < end)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(400));
                if (metricsAtStart is null && clock.Elapsed >= warmup)
                {
                    metricsAtStart = await ServerMetrics.ScrapeAsync(http);
                    rssAtStart = ServerLoad.StatusKb(server.Id, "VmRSS:");
                    cpuAtStart = ServerLoad.CpuSeconds(server.Id);
                    ticks.Clear();
                }

                rss.Add((clock.Elapsed.TotalSeconds, ServerLoad.StatusKb(server.Id, "VmRSS:")));
                try
                {
                    // The idle filter makes the answer small; its metadata is the current snapshot's.
                    using var document = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/snapshot?port=1", UriKind.Relative)));
                    var metadata = document.RootElement.GetProperty("metadata");
                    ticks.TryAdd(metadata.GetProperty("takenAt").GetString()!, metadata.GetProperty("durationMs").GetDouble());
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
                {
                    apiFailures++;
                }
            }

            var measured = clock.Elapsed - warmup;
            var cpu = (ServerLoad.CpuSeconds(server.Id) - cpuAtStart) / measured.TotalSeconds;
            var rssAtEnd = ServerLoad.StatusKb(server.Id, "VmRSS:");
            var metricsAtEnd = await ServerMetrics.ScrapeAsync(http);
            metricsAtStart ??= metricsAtEnd;
            var pagesAlive = 0;
            foreach (var page in openPages)
            {
                pagesAlive += !page.IsClosed && await page.Locator(".socket-grid").CountAsync() > 0 ? 1 : 0;
            }

            var socketsAtEnd = Timings.SocketCount();
            var durations = ticks.Values.Order().ToList();
            double Percentile(double p) => ServerMetrics.Percentile(durations, p);
            var (median, p99) = (Percentile(0.5), Percentile(0.99));
            double Delta(string name) => metricsAtEnd.GetValueOrDefault(name) - metricsAtStart.GetValueOrDefault(name);
            var gcPause = Delta("dotnet_gc_pause_time_seconds_total");
            var gcCount = Delta("dotnet_gc_collections_total");
            var historyRows = metricsAtEnd.TryGetValue("portdashboard_history_rows", out var rows) ? rows : double.NaN;
            var healthy = clients.Where(c => c.Open && c.Resyncs == 0).ToList();
            var gaps = healthy.Sum(c => c.Gaps);
            var growth = rssAtStart == 0 ? double.NaN : (rssAtEnd - rssAtStart) * 100.0 / rssAtStart;
            var rssAfterWarmup = rss.Where(r => r.Seconds >= warmup.TotalSeconds).Select(r => r.Kb).DefaultIfEmpty(0).ToList();

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Soak at 1 Hz polling: {measured.TotalMinutes:F1} min measured after {warmup.TotalSeconds:F0} s of warm-up; {socketsAtStart:N0} sockets at the start, {socketsAtEnd:N0} at the end; {hubClients} hub clients, {pages} chromium pages; load average {Timings.Load()}:"));
            Console.WriteLine();
            Console.WriteLine("| figure | value | target |");
            Console.WriteLine("|---|---:|---|");
            Row("RSS after the warm-up", $"{rssAtStart / 1024.0:F0} MB", "");
            Row("RSS at the end", $"{rssAtEnd / 1024.0:F0} MB", "");
            Row("RSS growth", $"{growth:F1}%", $"< 10% ({(growth < 10 ? "met" : "missed")})");
            Row("RSS lowest / highest after the warm-up", $"{rssAfterWarmup.Min() / 1024.0:F0} / {rssAfterWarmup.Max() / 1024.0:F0} MB", "");
            Row("managed heap after the last GC, start → end", $"{metricsAtStart.GetValueOrDefault("dotnet_gc_last_collection_heap_size_bytes") / 1048576:F0} → {metricsAtEnd.GetValueOrDefault("dotnet_gc_last_collection_heap_size_bytes") / 1048576:F0} MB", "");
            Row("ticks timed (snapshot duration, from its metadata)", $"{durations.Count}", $"~{measured.TotalSeconds:F0} at 1 Hz");
            Row("tick time median", $"{median:F0} ms", "");
            Row("tick time p99", $"{p99:F0} ms", "");
            Row("tick time max", $"{Percentile(1):F0} ms", "");
            Row("tick p99 / median", $"{p99 / median:F2}", $"≤ 2 ({(p99 <= 2 * median ? "met" : "missed")})");
            Row("CPU, share of one core (the app)", $"{cpu * 100:F0}%", "");
            Row("GC collections", $"{gcCount:F0}", "");
            Row("GC pause total", $"{gcPause * 1000:F0} ms ({gcPause * 100 / measured.TotalSeconds:F2}% of the time)", "");
            Row("GC pause mean per collection", gcCount > 0 ? $"{gcPause * 1000 / gcCount:F1} ms" : "-", "");
            Row("hub clients healthy at the end (open, never resynced)", $"{healthy.Count} / {clients.Count}", "");
            Row("sequence gaps seen by healthy clients", $"{gaps}", $"0 ({(gaps == 0 ? "met" : "missed")})");
            Row("resyncs (clients' fresh Snapshots / server's counter)", $"{clients.Sum(c => c.Resyncs)} / {Delta("portdashboard_subscribers_resynced_total"):F0}", "");
            Row("deltas received by the hub clients", $"{clients.Sum(c => c.DeltasReceived):N0}", "");
            Row("chromium pages still showing the grid", $"{pagesAlive} / {openPages.Count}", "");
            Row("history rows at the end / bound (MaxRows)", $"{historyRows:N0} / {maxRows:N0}", $"≤ bound ({(historyRows <= maxRows ? "met" : "missed")})");
            Row("sockets recorded in the history during the window", $"{Delta("portdashboard_history_sockets_recorded_total"):N0}", "");
            Row("/api/snapshot polls that failed", $"{apiFailures}", "");
            // Why a client closed (the one of the first full run said nothing): when, what the server sent, and what that means.
            foreach (var client in clients.Where(c => !c.Open))
            {
                var at = client.ClosedAt is { } closedAt ? (closedAt - runStart).TotalSeconds : double.NaN;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"closed before the end: {client.Name}, {at:F0} s into the run ({(at < warmup.TotalSeconds ? "warm-up" : "measured window")}), after {client.DeltasReceived:N0} deltas: {client.ClosedBecause ?? "no reason received"} → {client.CloseKind ?? "unknown"}"));
            }

            return gaps == 0 && healthy.Count == clients.Count && pagesAlive == openPages.Count ? 0 : 1;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"soak failed: {e.Message}");
            server.WriteOutput(Console.Error);
            return 1;
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }

            if (browser is not null)
            {
                await browser.CloseAsync();
            }

            playwright?.Dispose();
            historyDirectory.Delete(recursive: true);
        }
    }

    private static void Row(string figure, string value, string target) => Console.WriteLine($"| {figure} | {value} | {target} |");
}
