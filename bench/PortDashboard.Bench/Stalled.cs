using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using PortDashboard.Hubs;

namespace PortDashboard.Bench;

/// <summary>
/// Stalled hub clients (issue 13): the app (1 Hz polling) on the table the load generator churns, one healthy JSON hub
/// client measuring each delta's delay (arrival minus the snapshot's <c>takenAt</c>), and, in turn, 1, 10 and 100 hub
/// clients in a separate process (<c>stall-clients</c>) that subscribe, get their first Snapshot and are then
/// SIGSTOPped: the process reads nothing and sends nothing, so its socket buffers and then the server's fill. Each
/// stall count reports the healthy client's delay against the 0-stalled baseline, the app's CPU and RSS, the feed's
/// queues and waiting sends from /metrics, when the server dropped the stalled connections, what the stalled clients
/// saw once resumed (SIGCONT), and how long the gauges took to return to their base. Stops by itself: the stalled
/// process runs under <c>timeout -s KILL</c>, the app is killed on the way out.
/// </summary>
internal static partial class Stalled
{
    private const int SigKill = 9;
    private const int SigCont = 18;
    private const int SigStop = 19;

    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(Arguments args)
    {
        var app = Path.GetFullPath(args.String("app") ?? throw new ArgumentException("--app <path to PortDashboard.dll> is required"));
        var counts = (args.String("counts") ?? "1,10,100").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToList();
        var warmup = TimeSpan.FromSeconds(args.Int("warmup", 10));
        var baseline = TimeSpan.FromSeconds(args.Int("baseline-seconds", 15));
        var stall = TimeSpan.FromSeconds(args.Int("stall-seconds", 40));
        var port = args.Int("port", 5281);
        var filter = args.String("stalled-filter"); // none: the whole table, the largest messages
        var receiveBuffer = args.String("receive-buffer") is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : (int?)null;
        if (counts.Any(c => c is < 1 or > 1000) || stall.TotalSeconds is < 5 or > 120 || baseline.TotalSeconds is < 5 or > 120)
        {
            throw new ArgumentException("--counts takes 1 to 1000 clients each, --stall-seconds and --baseline-seconds 5 to 120: a run is bounded");
        }

        var environment = AppProcess.ParseEnvironment(args.String("env"));
        environment.Add(new("PortDashboard__Limits__HubConnections", (counts.Max() + 10).ToString(CultureInfo.InvariantCulture)));
        await using var server = AppProcess.Start(app, port, TimeSpan.FromSeconds(1), environment);
        HubClient? healthy = null;
        try
        {
            var baseUri = new Uri($"http://127.0.0.1:{port}");
            using var http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(20) };
            await server.WaitHealthyAsync(baseUri, TimeSpan.FromSeconds(120));
            var hub = new Uri($"ws://127.0.0.1:{port}{SocketsHub.Path}");
            healthy = await HubClient.ConnectAsync(hub, "healthy JSON, whole table", messagePack: false, null);
            await healthy.FirstSnapshot.WaitAsync(TimeSpan.FromSeconds(60));
            await Task.Delay(warmup);

            var sockets = Timings.SocketCount();
            var (baseSamples, baseCpu) = await SampleAsync(server, http, baseline, _ => false);
            var base0 = baseSamples[^1];
            var baselineDelays = healthy.DelaysBetween(baseSamples[0].At, base0.At);
            var rows = new List<string> { Row("0", baselineDelays, baselineDelays, baseCpu, baseSamples, "-", "-", "-", "-") };
            var notes = new List<string>();
            var gapsBefore = healthy.Gaps;
            foreach (var count in counts)
            {
                var (row, note) = await StallAsync(count, server, http, hub, healthy, base0, baselineDelays, stall, filter, receiveBuffer);
                rows.Add(row);
                notes.AddRange(note);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Stalled hub clients at 1 Hz polling on {sockets:N0} sockets: one healthy JSON client (whole table); stalled clients JSON, {filter ?? "whole table"}, receive buffer {(receiveBuffer is int b ? $"{b:N0} B (SO_RCVBUF)" : "the kernel's autotuning")}; {baseline.TotalSeconds:F0} s baseline, {stall.TotalSeconds:F0} s stalled each; load average {Timings.Load()}:"));
            Console.WriteLine();
            Console.WriteLine("| stalled | healthy delay p50 / p95 | × baseline p50 / p95 | server CPU (one core) | GC pauses | RSS at SIGSTOP → highest | heap after GC at SIGSTOP → highest | backlog summed / longest, highest | sends waiting, highest | resyncs | dropped by the server | the stalled clients, resumed | gauges back at base |");
            Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|");
            rows.ForEach(Console.WriteLine);
            Console.WriteLine();
            Console.WriteLine($"healthy client: {healthy.DeltasReceived} deltas, {healthy.Gaps - gapsBefore} gaps, {healthy.Resyncs} resyncs, {(healthy.Open ? "open at the end" : $"CLOSED: {healthy.ClosedBecause}")}");
            notes.ForEach(Console.WriteLine);
            return healthy.Open && healthy.Gaps == 0 && healthy.Resyncs == 0 ? 0 : 1;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"stalled-client measurement failed: {e.Message}");
            server.WriteOutput(Console.Error);
            return 1;
        }
        finally
        {
            if (healthy is not null)
            {
                await healthy.DisposeAsync();
            }
        }
    }

    /// <summary>One stall count: start the process, SIGSTOP it, watch, SIGCONT, collect its report, watch the recovery.</summary>
    private static async Task<(string Row, List<string> Notes)> StallAsync(
        int count, AppProcess server, HttpClient http, Uri hub, HubClient healthy, Sample base0, List<double> baselineDelays,
        TimeSpan stall, string? filter, int? receiveBuffer)
    {
        var bench = typeof(Stalled).Assembly.Location;
        var limit = (int)(stall.TotalSeconds + 240); // the stalled process is killed by `timeout` after this, whatever happens here
        List<string> arguments = ["-s", "KILL", limit.ToString(CultureInfo.InvariantCulture), "dotnet", bench, "stall-clients", "--hub", hub.ToString(), "--count", count.ToString(CultureInfo.InvariantCulture)];
        if (filter is not null)
        {
            arguments.AddRange(["--filter", filter]);
        }

        if (receiveBuffer is int bytes)
        {
            arguments.AddRange(["--receive-buffer", bytes.ToString(CultureInfo.InvariantCulture)]);
        }

        var start = new ProcessStartInfo("timeout", arguments) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var pid = 0;
        try
        {
            var ready = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(180));
            if (ready is null || !ready.StartsWith("ready ", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"the stall-clients process did not get ready: {ready ?? "(ended)"} {await stderr}");
            }

            // "ready K failed F pid P": K clients subscribed and got their first Snapshot.
            var words = ready.Split(' ');
            pid = int.Parse(words[^1], CultureInfo.InvariantCulture);
            var startFailures = int.Parse(words[3], CultureInfo.InvariantCulture);
            count = int.Parse(words[1], CultureInfo.InvariantCulture);
            var subscribed = await ServerMetrics.ScrapeWithinAsync(http, TimeSpan.FromSeconds(60));
            Signal(pid, SigStop);
            var stoppedAt = DateTimeOffset.UtcNow;
            var (samples, cpu) = await SampleAsync(server, http, stall, _ => false);
            var delays = healthy.DelaysBetween(stoppedAt, samples[^1].At);
            var dropped = samples.FirstOrDefault(s => s.HubConnections <= base0.HubConnections);
            var droppedText = dropped is null
                ? $"no: {samples[^1].HubConnections - base0.HubConnections:F0} of {count} still open after {stall.TotalSeconds:F0} s"
                : $"all {count} after {(dropped.At - stoppedAt).TotalSeconds:F0} s";
            var resyncs = samples[^1].Resyncs - subscribed.GetValueOrDefault("portdashboard_subscribers_resynced_total");

            // Resumed: the clients read what their buffers held and learn how the server left them; then they report.
            Signal(pid, SigCont);
            process.StandardInput.Close();
            var report = new List<string>();
            while (await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)) is { } line)
            {
                report.Add(line);
            }

            var resumedAt = DateTimeOffset.UtcNow;
            var (recovery, _) = await SampleAsync(server, http, Recovery, s =>
                s.HubConnections <= base0.HubConnections && s.Subscribers <= base0.Subscribers && s.Backlog <= base0.Backlog && s.SendsWaiting <= base0.SendsWaiting);
            var back = recovery[^1];
            var atBase = back.HubConnections <= base0.HubConnections && back.Subscribers <= base0.Subscribers && back.Backlog <= base0.Backlog && back.SendsWaiting <= base0.SendsWaiting;
            var backText = atBase
                ? string.Create(CultureInfo.InvariantCulture, $"yes, {(back.At - resumedAt).TotalSeconds:F0} s after the report (hub connections {back.HubConnections:F0}, subscribers {back.Subscribers:F0}, backlog {back.Backlog:F0}; RSS {back.RssKb / 1024.0:F0} MB, heap after GC {back.HeapBytes / 1048576:F0} MB)")
                : string.Create(CultureInfo.InvariantCulture, $"NO after {Recovery.TotalSeconds:F0} s: hub connections {back.HubConnections:F0}, subscribers {back.Subscribers:F0}, backlog {back.Backlog:F0}, sends waiting {back.SendsWaiting:F0} (base {base0.HubConnections:F0}, {base0.Subscribers:F0}, {base0.Backlog:F0}, {base0.SendsWaiting:F0})");
            var summary = report.FirstOrDefault(l => l.StartsWith("report ", StringComparison.Ordinal))?["report ".Length..] ?? "no report";
            var notes = report.Where(l => l.StartsWith("closed ", StringComparison.Ordinal)).Select(l => $"{count} stalled: {l}").ToList();
            if (await Task.WhenAny(stderr, Task.Delay(TimeSpan.FromSeconds(10))) == stderr)
            {
                notes.AddRange((await stderr).Split('\n').Where(l => l.StartsWith("stall-clients:", StringComparison.Ordinal)));
            }

            var label = startFailures == 0 ? $"{count}" : $"{count} (+{startFailures} that did not start)";
            return (Row(label, delays, baselineDelays, cpu, samples, $"{resyncs:F0}", droppedText, summary, backText), notes);
        }
        finally
        {
            if (!process.HasExited)
            {
                if (pid > 0)
                {
                    Signal(pid, SigKill);
                }

                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync();
        }
    }

    private static string Row(string count, List<double> delays, List<double> baseline, double cpu, List<Sample> samples, string resyncs, string dropped, string resumed, string back)
    {
        double P(List<double> sorted, double p) => ServerMetrics.Percentile(sorted, p);
        var (p50, p95) = (P(delays, 0.5), P(delays, 0.95));
        return string.Create(CultureInfo.InvariantCulture,
            $"| {count} | {p50:F0} / {p95:F0} ms ({delays.Count} deltas) | {p50 / P(baseline, 0.5):F2} / {p95 / P(baseline, 0.95):F2} | {cpu * 100:F0}% | {(samples[^1].GcPauseSeconds - samples[0].GcPauseSeconds) * 1000:F0} ms | {samples[0].RssKb / 1024.0:F0} → {samples.Max(s => s.RssKb) / 1024.0:F0} MB | {samples[0].HeapBytes / 1048576:F0} → {samples.Max(s => s.HeapBytes) / 1048576:F0} MB | {samples.Max(s => s.Backlog):F0} / {samples.Max(s => s.BacklogLongest):F0} | {samples.Max(s => s.SendsWaiting):F0} | {resyncs} | {dropped} | {resumed} | {back} |");
    }

    /// <summary>Samples RSS and the gauges every second for <paramref name="duration"/> or until <paramref name="done"/>; the app's CPU share over it.</summary>
    private static async Task<(List<Sample> Samples, double Cpu)> SampleAsync(AppProcess server, HttpClient http, TimeSpan duration, Func<Sample, bool> done)
    {
        var samples = new List<Sample>();
        var (cpuBefore, clock) = (ServerLoad.CpuSeconds(server.Id), Stopwatch.StartNew());
        while (true)
        {
            var metrics = await ServerMetrics.ScrapeWithinAsync(http, TimeSpan.FromSeconds(60));
            var sample = new Sample(
                DateTimeOffset.UtcNow,
                ServerLoad.StatusKb(server.Id, "VmRSS:"),
                metrics.GetValueOrDefault("portdashboard_hub_connections"),
                metrics.GetValueOrDefault("portdashboard_subscribers"),
                metrics.GetValueOrDefault("portdashboard_subscribers_backlog"),
                metrics.GetValueOrDefault("portdashboard_subscribers_backlog_longest"),
                metrics.GetValueOrDefault("portdashboard_hub_sends_waiting"),
                metrics.GetValueOrDefault("portdashboard_subscribers_resynced_total"),
                metrics.GetValueOrDefault("dotnet_gc_last_collection_heap_size_bytes"),
                metrics.GetValueOrDefault("dotnet_gc_pause_time_seconds_total"));
            samples.Add(sample);
            if (done(sample) || clock.Elapsed >= duration)
            {
                return (samples, (ServerLoad.CpuSeconds(server.Id) - cpuBefore) / clock.Elapsed.TotalSeconds);
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    private static void Signal(int pid, int signal)
    {
        if (Kill(pid, signal) != 0)
        {
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>
    /// The stalled side, in its own process (<c>stall-clients --hub URI --count N [--filter F] [--receive-buffer B]</c>):
    /// connects N JSON hub clients, waits for each one's first Snapshot, prints <c>ready N pid P</c>, then holds them
    /// (the parent SIGSTOPs it) until its stdin closes, and prints what they saw: <c>report ...</c> and one
    /// <c>closed ...</c> line per distinct reason.
    /// </summary>
    public static async Task<int> HoldAsync(Arguments args)
    {
        var hub = new Uri(args.String("hub") ?? throw new ArgumentException("--hub <ws://...> is required"));
        var count = args.Int("count", 1);
        var filter = args.String("filter");
        var receiveBuffer = args.String("receive-buffer") is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : (int?)null;
        var clients = new List<HubClient>();
        var failed = new List<string>();
        try
        {
            for (var i = 0; i < count; i += 10)
            {
                await Task.WhenAll(Enumerable.Range(i, Math.Min(10, count - i)).Select(async n =>
                {
                    try
                    {
                        var client = await HubClient.ConnectAsync(hub, $"stalled {n}", messagePack: false, filter, receiveBuffer);
                        lock (clients)
                        {
                            clients.Add(client);
                        }

                        await client.FirstSnapshot.WaitAsync(TimeSpan.FromSeconds(120));
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        lock (failed)
                        {
                            failed.Add($"{e.GetType().Name}: {e.Message}");
                        }
                    }
                }));
            }

            // Those that failed to start are reported, not stalled: the parent counts the stalled ones from "ready".
            foreach (var reason in failed.GroupBy(f => f))
            {
                Console.Error.WriteLine($"stall-clients: {reason.Count()} of {count} did not start: {reason.Key}");
            }

            foreach (var client in clients.Where(c => !c.FirstSnapshot.IsCompletedSuccessfully).ToList())
            {
                await client.DisposeAsync();
                clients.Remove(client);
            }

            count = clients.Count;
            Console.WriteLine($"ready {count} failed {failed.Count} pid {Environment.ProcessId}");
            await Console.In.ReadToEndAsync(); // until the parent closes stdin (after SIGCONT)

            // Resumed: the clients read what their buffers held before they see how the server left them.
            var drain = Stopwatch.StartNew();
            while (clients.Any(c => c.Open) && drain.Elapsed < TimeSpan.FromSeconds(args.Int("drain-seconds", 30)))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200));
            }

            var open = clients.Count(c => c.Open);
            Console.WriteLine($"report {open} of {count} open, {count - open} closed {drain.Elapsed.TotalSeconds:F0} s after SIGCONT; {clients.Sum(c => c.Resyncs)} resyncs, {clients.Sum(c => c.Gaps)} gaps seen");
            foreach (var reason in clients.Where(c => !c.Open).GroupBy(c => c.ClosedBecause ?? "no reason received"))
            {
                Console.WriteLine($"closed {reason.Count()} × {reason.Key}");
            }

            return 0;
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    private sealed record Sample(DateTimeOffset At, long RssKb, double HubConnections, double Subscribers, double Backlog, double BacklogLongest, double SendsWaiting, double Resyncs, double HeapBytes, double GcPauseSeconds);
}
