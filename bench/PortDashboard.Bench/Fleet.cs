using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Playwright;
using StackExchange.Redis;

namespace PortDashboard.Bench;

/// <summary>
/// The fleet run of issue 12: N hosts, each a network namespace with its own PID namespace (<c>ip netns exec NS
/// unshare --pid --fork --mount-proc</c>), holding a load generator (about <c>--sockets</c> sockets, churned) and one
/// published agent at the poll interval; a redis-server of the run's own, which the agents reach by its unix socket (a
/// namespace cannot reach the host's loopback); one dashboard with the fleet on loopback, and headless chromium on its
/// Connections page with <c>host=NAME</c>. After the warm-up it measures, for a fixed window, each agent's CPU (utime +
/// stime from <c>/proc/PID/stat</c>, as a share of one core) and RSS, the dashboard's, Redis's <c>INFO memory</c>, and
/// the delay from a listener opening inside a namespace to its row in chromium. Everything it started is stopped by pid
/// and the namespaces deleted on the way out, on failure, Ctrl-C or SIGTERM, and at its deadline.
/// </summary>
/// <remarks>
/// Why a PID namespace per host: an agent reads every process's descriptors it can see to attribute sockets. In the
/// host's PID namespace each of the N agents would read every other host's generator too (N × the descriptors), which
/// no real host does; in its own it reads its host's processes only, as on a machine of its own.
/// </remarks>
internal static class FleetBench
{
    public static async Task<int> RunAsync(Arguments args)
    {
        var options = FleetBenchOptions.From(args);
        using var stop = new CancellationTokenSource(options.Deadline);
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true; // clean up first, then exit
            Console.Error.WriteLine($"fleet: {context.Signal}: stopping and cleaning up");
            stop.Cancel();
        }

        using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        var run = new FleetRun(options);
        try
        {
            return await run.ExecuteAsync(stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Console.Error.WriteLine($"fleet: stopped before the end (a signal, or the deadline of {options.Deadline.TotalMinutes:F0} min)");
            run.WriteOutput(Console.Error);
            return 1;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"fleet bench failed: {e.Message}");
            run.WriteOutput(Console.Error);
            return 1;
        }
        finally
        {
            await run.DisposeAsync();
        }
    }
}

internal sealed record FleetBenchOptions(
    string App,
    string Generator,
    int Agents,
    int Sockets,
    int Churn,
    TimeSpan Warmup,
    TimeSpan Window,
    int Trials,
    int TrialHosts,
    TimeSpan PollInterval,
    int Port,
    string Chromium,
    string? State,
    int StartBatch,
    TimeSpan Deadline,
    IReadOnlyList<KeyValuePair<string, string>> AgentEnvironment)
{
    /// <summary>The TIME_WAIT time of Linux TCP: a churned connection leaves its client end this long.</summary>
    private const int TimeWaitSeconds = 60;

    /// <summary>The host load generator's listener ports (bench/fleet-host-load.py).</summary>
    public const int Listeners = 8;

    /// <summary>Debian's interpreter for the host load generator (one light process per host, inside its namespaces).</summary>
    public const string Python = "/usr/bin/python3";

    public static FleetBenchOptions From(Arguments args)
    {
        var options = new FleetBenchOptions(
            App: Path.GetFullPath(args.String("app") ?? throw new ArgumentException("--app <path to the published PortDashboard.dll> is required")),
            Generator: Path.GetFullPath(args.String("generator") ?? throw new ArgumentException("--generator <path to bench/fleet-host-load.py> is required")),
            Agents: args.Int("agents", 50),
            Sockets: args.Int("sockets", 1000),
            Churn: args.Int("churn", 2),
            Warmup: TimeSpan.FromSeconds(args.Int("warmup", 60)),
            Window: TimeSpan.FromSeconds(args.Int("seconds", 60)),
            Trials: args.Int("trials", 30),
            TrialHosts: args.Int("trial-hosts", 5),
            PollInterval: TimeSpan.FromMilliseconds(args.Int("poll-ms", 1000)),
            Port: args.Int("port", 5196),
            Chromium: args.String("chromium") ?? "/usr/bin/chromium",
            State: args.String("state"),
            StartBatch: args.Int("start-batch", 5),
            Deadline: TimeSpan.FromMinutes(args.Int("deadline-minutes", 45)),
            AgentEnvironment: Settings(args.String("agent-env")));
        if (options.Agents is < 1 or > 200)
        {
            throw new ArgumentException("--agents must be between 1 and 200");
        }

        if (options.Sockets is < 20 or > 30_000 || options.Churn is < 0 or > 200 || options.Connections < 1)
        {
            throw new ArgumentException("--sockets must be between 20 and 30000 per host and --churn between 0 and 200 per second, leaving room for the connections (each 2 sockets, each churn leaves one TIME_WAIT for 60 s)");
        }

        if (options.Trials is < 1 or > 1000 || options.TrialHosts < 1 || options.StartBatch < 1)
        {
            throw new ArgumentException("--trials must be between 1 and 1000, --trial-hosts and --start-batch at least 1");
        }

        if (options.Window <= TimeSpan.Zero || options.Window > TimeSpan.FromMinutes(30) || options.Warmup < TimeSpan.Zero
            || options.PollInterval < TimeSpan.FromMilliseconds(100) || options.PollInterval > TimeSpan.FromSeconds(10)
            || options.Deadline <= options.Warmup + options.Window || options.Deadline > TimeSpan.FromHours(2))
        {
            throw new ArgumentException("--seconds must be in (0, 1800], --warmup ≥ 0, --poll-ms in [100, 10000], --deadline-minutes longer than the warm-up and window and at most 120: a bench stops by itself");
        }

        foreach (var file in (string[])[options.App, options.Generator, options.Chromium, Python])
        {
            if (!File.Exists(file))
            {
                throw new ArgumentException($"{file} does not exist (bench/fleet.sh builds and publishes what the run needs)");
            }
        }

        return options;
    }

    /// <summary><c>K=V,K=V</c> (e.g. <c>DOTNET_gcServer=0</c>, <c>PortDashboard__AttributeOwners=false</c>) for the agents, to compare.</summary>
    private static List<KeyValuePair<string, string>> Settings(string? text)
    {
        var settings = new List<KeyValuePair<string, string>>();
        foreach (var setting in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var at = setting.IndexOf('=', StringComparison.Ordinal);
            if (at <= 0)
            {
                throw new ArgumentException($"--agent-env takes K=V,K=V; got '{setting}'");
            }

            settings.Add(new(setting[..at], setting[(at + 1)..]));
        }

        return settings;
    }

    /// <summary>Connections per host's generator: each two sockets; with the listeners and the churn's TIME_WAIT the table holds about <see cref="Sockets"/> (a little more).</summary>
    public int Connections => (Sockets - Listeners - (Churn * TimeWaitSeconds) + 1) / 2 + 2;

    /// <summary>How long a generator runs before it stops by itself: past the bench's deadline.</summary>
    public int GeneratorSeconds => (int)(Deadline + TimeSpan.FromMinutes(5)).TotalSeconds;
}

/// <summary>Everything one fleet run started, and the run itself.</summary>
internal sealed class FleetRun(FleetBenchOptions options) : IAsyncDisposable
{
    /// <summary>The address the trials' listeners bind inside a namespace: the generator uses 127.0.0.1-4, so the page filtered to it shows only the trials.</summary>
    private static readonly IPAddress TrialAddress = IPAddress.Parse("127.0.0.77");

    private readonly List<FleetHostProcess> _hosts = [];
    private readonly List<string> _namespaces = [];
    private readonly ConcurrentQueue<string> _output = new();
    private readonly string _tag = $"pdfb{Environment.ProcessId}";
    private string _state = "";
    private bool _ownState;
    private Process? _redis;
    private string? _redisDirectory;
    private int _redisPort;
    private AppProcess? _dashboard;
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private ConnectionMultiplexer? _redisClient;

    private string RedisSocket => Path.Combine(_redisDirectory!, "redis.sock");

    public async Task<int> ExecuteAsync(CancellationToken cancellationToken)
    {
        _ownState = options.State is null;
        _state = options.State ?? Directory.CreateTempSubdirectory("pd-fleet-bench-").FullName;
        Directory.CreateDirectory(Path.Combine(_state, "logs"));
        var loadBefore = Uptime();
        Console.Error.WriteLine($"fleet: {options.Agents} hosts × ~{options.Sockets} sockets ({options.Connections} connections, churn {options.Churn}/s each); state in {_state}");

        await StartRedisAsync(cancellationToken);
        _redisClient = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{_redisPort},allowAdmin=true");

        var dashboardPort = FreeOr(options.Port);
        _dashboard = AppProcess.Start(options.App, dashboardPort, options.PollInterval,
        [
            new("PortDashboard__Fleet__Redis", $"127.0.0.1:{_redisPort}"),
            new("PortDashboard__History__Path", Path.Combine(_state, "history.db")),
            new("Serilog__WriteTo__File__Args__path", Path.Combine(_state, "logs", "dashboard-.log")),
        ]);
        Record("dashboard", _dashboard.Id);
        var baseUri = new Uri($"http://127.0.0.1:{dashboardPort}");
        using var http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(20) };
        await _dashboard.WaitHealthyAsync(baseUri, TimeSpan.FromSeconds(120)).WaitAsync(cancellationToken);

        // Hosts start a few at a time (each agent compiles its code at start): a batch is online before the next starts.
        var started = Stopwatch.StartNew();
        for (var first = 0; first < options.Agents; first += options.StartBatch)
        {
            var batch = new List<FleetHostProcess>();
            for (var i = first; i < Math.Min(options.Agents, first + options.StartBatch); i++)
            {
                batch.Add(await StartHostAsync(i + 1, cancellationToken));
            }

            await UntilAsync($"hosts {batch[0].Name}..{batch[^1].Name} online with their generators ready", async () =>
            {
                var hosts = await HostsAsync(http);
                return batch.All(h => h.Ready && h.FindAgent() && hosts.TryGetValue(h.Name, out var s) && s.Status == "online");
            }, TimeSpan.FromSeconds(240), cancellationToken);
            Console.Error.WriteLine($"fleet: {_hosts.Count}/{options.Agents} hosts online after {started.Elapsed.TotalSeconds:F0} s; load {Timings.Load()}");
        }

        var startup = started.Elapsed;

        // Pages: the Connections page of a few hosts spread over the fleet, filtered to the trials' address.
        var trialHosts = Enumerable.Range(0, Math.Min(options.TrialHosts, _hosts.Count))
            .Select(k => _hosts[k * _hosts.Count / Math.Min(options.TrialHosts, _hosts.Count)]).ToList();
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = options.Chromium,
            Headless = true,
            Args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking"],
        });
        var pages = new Dictionary<FleetHostProcess, IPage>();
        foreach (var host in trialHosts)
        {
            var page = await _browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1440, Height = 900 } });
            await page.GotoAsync(new Uri(baseUri, $"/?host={host.Name}&address={TrialAddress}").ToString(), new PageGotoOptions { Timeout = 120_000 });
            await page.Locator(".socket-grid").WaitForAsync(new LocatorWaitForOptions { Timeout = 120_000 });
            await page.EvaluateAsync(BrowserLatency.InstallObserver);
            pages[host] = page;
        }

        // Interactive once the circuit has rendered a live update: one trial socket per page seen first.
        foreach (var (host, page) in pages)
        {
            using var warm = host.Namespace.Listen(TrialAddress);
            if (await BrowserLatency.WaitSeenAsync(page, warm.Port, TimeSpan.FromSeconds(90)) is null)
            {
                throw new TimeoutException($"the Connections page of {host.Name} did not show a socket opened in {host.Namespace.Name} within 90 s");
            }
        }

        Console.Error.WriteLine($"fleet: {pages.Count} pages live; {options.Warmup.TotalSeconds:F0} s of warm-up, then {options.Window.TotalSeconds:F0} s measured");
        await Task.Delay(options.Warmup, cancellationToken);

        // The window: CPU from utime + stime at both ends, RSS sampled every second; the trials run meanwhile.
        var hostsAtStart = await HostsAsync(http);
        var agentsCpu = _hosts.ToDictionary(h => h, h => ServerLoad.CpuSeconds(h.AgentPid));
        var dashboardCpu = ServerLoad.CpuSeconds(_dashboard.Id);
        var redisCpu = ServerLoad.CpuSeconds(_redis!.Id);
        var rssMax = new Dictionary<int, long>();
        var window = Stopwatch.StartNew();
        var trials = RunTrialsAsync(pages, cancellationToken);
        while (window.Elapsed < options.Window)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            foreach (var pid in _hosts.Select(h => h.AgentPid).Append(_dashboard.Id).Append(_redis.Id))
            {
                rssMax[pid] = Math.Max(rssMax.GetValueOrDefault(pid), ServerLoad.StatusKb(pid, "VmRSS:"));
            }
        }

        var seconds = window.Elapsed.TotalSeconds;
        var agents = _hosts.Select(h => new AgentFigures(h.Name, (ServerLoad.CpuSeconds(h.AgentPid) - agentsCpu[h]) / seconds,
            ServerLoad.StatusKb(h.AgentPid, "VmRSS:"), rssMax.GetValueOrDefault(h.AgentPid), ServerLoad.StatusKb(h.AgentPid, "VmHWM:"))).ToList();
        var dashboard = new AgentFigures("dashboard", (ServerLoad.CpuSeconds(_dashboard.Id) - dashboardCpu) / seconds,
            ServerLoad.StatusKb(_dashboard.Id, "VmRSS:"), rssMax.GetValueOrDefault(_dashboard.Id), ServerLoad.StatusKb(_dashboard.Id, "VmHWM:"));
        var redis = new AgentFigures("redis", (ServerLoad.CpuSeconds(_redis.Id) - redisCpu) / seconds,
            ServerLoad.StatusKb(_redis.Id, "VmRSS:"), rssMax.GetValueOrDefault(_redis.Id), ServerLoad.StatusKb(_redis.Id, "VmHWM:"));
        var hostsAtEnd = await HostsAsync(http);
        var memory = await RedisInfoAsync("memory");
        var streamEntries = 0L;
        foreach (var host in _hosts)
        {
            streamEntries += await _redisClient.GetDatabase().StreamLengthAsync($"portdashboard:host:{host.Name}:deltas");
        }

        var keys = (long)await _redisClient.GetDatabase().ExecuteAsync("DBSIZE");
        var latencies = await trials;
        var loadAfter = Uptime();

        Report(new FleetFigures(agents, dashboard, redis, hostsAtStart, hostsAtEnd, memory, streamEntries, keys, latencies, seconds, startup, loadBefore, loadAfter, trialHosts.Select(h => h.Name).ToList()));
        var offline = _hosts.Count(h => hostsAtEnd.GetValueOrDefault(h.Name)?.Status != "online");
        return latencies.Missed == 0 && offline == 0 ? 0 : 1;
    }

    private sealed record AgentFigures(string Name, double Cpu, long RssKb, long RssMaxKb, long HwmKb);

    private sealed record HostState(string Status, int Sockets, long Resyncs, long Sequence);

    private sealed record Latencies(List<double> Milliseconds, int Missed, int Trials);

    private sealed record FleetFigures(
        List<AgentFigures> Agents, AgentFigures Dashboard, AgentFigures Redis,
        Dictionary<string, HostState> HostsAtStart, Dictionary<string, HostState> HostsAtEnd,
        Dictionary<string, string> Memory, long StreamEntries, long Keys, Latencies Latencies, double Seconds, TimeSpan Startup,
        string LoadBefore, string LoadAfter, List<string> TrialHosts);

    private async Task<Latencies> RunTrialsAsync(Dictionary<FleetHostProcess, IPage> pages, CancellationToken cancellationToken)
    {
        var random = new Random(12);
        var hosts = pages.Keys.ToList();
        var latencies = new List<double>(options.Trials);
        var missed = 0;
        for (var i = 0; i < options.Trials; i++)
        {
            var host = hosts[i % hosts.Count];
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next((int)options.PollInterval.TotalMilliseconds) + 50), cancellationToken); // a random moment of the poll cycle
            using var listener = host.Namespace.Listen(TrialAddress);
            var seen = await BrowserLatency.WaitSeenAsync(pages[host], listener.Port, options.PollInterval * 10 + TimeSpan.FromSeconds(5));
            if (seen is { } at)
            {
                latencies.Add(at - listener.OpenedAt);
            }
            else
            {
                missed++;
                Console.Error.WriteLine($"fleet: trial {i + 1} on {host.Name}: port {listener.Port} not seen within {(options.PollInterval * 10).TotalSeconds + 5:F0} s");
            }
        }

        latencies.Sort();
        return new Latencies(latencies, missed, options.Trials);
    }

    private void Report(FleetFigures f)
    {
        static double Percentile(IReadOnlyList<double> sorted, double p) =>
            sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
        string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
        string Met(bool met) => met ? "met" : "missed";

        var cpu = f.Agents.Select(a => a.Cpu * 100).Order().ToList();
        var rss = f.Agents.Select(a => a.RssMaxKb / 1024.0).Order().ToList();
        var sockets = f.Agents.Select(a => (double)(f.HostsAtEnd.GetValueOrDefault(a.Name)?.Sockets ?? 0)).Order().ToList();
        var atTarget = f.Agents.Where(a => f.HostsAtEnd.GetValueOrDefault(a.Name)?.Sockets >= options.Sockets).ToList();
        var cpuMet = f.Agents.Count(a => a.Cpu * 100 <= 1.0);
        var rssMet = f.Agents.Count(a => a.RssMaxKb / 1024.0 <= 80);
        var online = f.HostsAtEnd.Values.Count(h => h.Status == "online");
        var resyncs = f.HostsAtEnd.Sum(h => h.Value.Resyncs - (f.HostsAtStart.GetValueOrDefault(h.Key)?.Resyncs ?? 0));
        var deltas = f.HostsAtEnd.Sum(h => h.Value.Sequence - (f.HostsAtStart.GetValueOrDefault(h.Key)?.Sequence ?? 0));
        var lat = f.Latencies.Milliseconds;
        var latencyTarget = options.PollInterval.TotalMilliseconds + 500;
        var p95 = Percentile(lat, 0.95);
        double MemoryMb(string key) => f.Memory.TryGetValue(key, out var v) && long.TryParse(v, CultureInfo.InvariantCulture, out var bytes) ? bytes / 1048576.0 : double.NaN;

        Console.WriteLine(Inv($"Fleet: {f.Agents.Count} agents (each its own network and PID namespace, {options.PollInterval.TotalMilliseconds:F0} ms poll, a generator of {options.Connections} connections churning {options.Churn}/s{(options.AgentEnvironment.Count > 0 ? $", agents with {string.Join(' ', options.AgentEnvironment.Select(e => $"{e.Key}={e.Value}"))}" : "")}), one dashboard, one redis-server; {f.Seconds:F0} s measured after {options.Warmup.TotalSeconds:F0} s of warm-up (hosts started in {f.Startup.TotalSeconds:F0} s)."));
        Console.WriteLine($"uptime before: {f.LoadBefore}");
        Console.WriteLine($"uptime after:  {f.LoadAfter}");
        Console.WriteLine();
        Console.WriteLine("| figure | value | target |");
        Console.WriteLine("|---|---:|---|");
        Row("hosts online at the end of the window", Inv($"{online} / {f.Agents.Count}"), "all");
        Row("sockets per host at the end (min / median / max)", Inv($"{Percentile(sockets, 0):F0} / {Percentile(sockets, 0.5):F0} / {Percentile(sockets, 1):F0}"), Inv($"~{options.Sockets}"));
        Row(Inv($"agents measured at ≥ {options.Sockets} sockets"), Inv($"{atTarget.Count} / {f.Agents.Count}"), "");
        Row("agent CPU, % of one core (min / median / p95 / max)", Inv($"{Percentile(cpu, 0):F2} / {Percentile(cpu, 0.5):F2} / {Percentile(cpu, 0.95):F2} / {Percentile(cpu, 1):F2}"), Inv($"≤ 1% each: {cpuMet} / {f.Agents.Count} ({Met(cpuMet == f.Agents.Count)})"));
        if (atTarget.Count > 0)
        {
            var cpuAt = atTarget.Select(a => a.Cpu * 100).Order().ToList();
            Row(Inv($"agent CPU at ≥ {options.Sockets} sockets (median / max)"), Inv($"{Percentile(cpuAt, 0.5):F2} / {Percentile(cpuAt, 1):F2}"), Met(cpuAt[^1] <= 1.0));
        }

        Row("agent RSS, highest sampled, MB (min / median / p95 / max)", Inv($"{Percentile(rss, 0):F0} / {Percentile(rss, 0.5):F0} / {Percentile(rss, 0.95):F0} / {Percentile(rss, 1):F0}"), Inv($"≤ 80 MB each: {rssMet} / {f.Agents.Count} ({Met(rssMet == f.Agents.Count)})"));
        Row("agent RSS peak since start (VmHWM), MB, max", Inv($"{f.Agents.Max(a => a.HwmKb) / 1024.0:F0}"), "");
        Row("agents' CPU together, cores", Inv($"{f.Agents.Sum(a => a.Cpu):F2}"), "");
        Row("dashboard CPU, % of one core", Inv($"{f.Dashboard.Cpu * 100:F1}"), "");
        Row("dashboard RSS at the end / highest sampled / VmHWM, MB", Inv($"{f.Dashboard.RssKb / 1024.0:F0} / {f.Dashboard.RssMaxKb / 1024.0:F0} / {f.Dashboard.HwmKb / 1024.0:F0}"), "");
        Row("redis used_memory / used_memory_rss / peak, MB", Inv($"{MemoryMb("used_memory"):F1} / {MemoryMb("used_memory_rss"):F1} / {MemoryMb("used_memory_peak"):F1}"), "");
        Row("redis keys / stream entries kept (all hosts)", Inv($"{f.Keys} / {f.StreamEntries:N0}"), "");
        Row("redis-server CPU, % of one core", Inv($"{f.Redis.Cpu * 100:F1}"), "");
        Row("deltas applied by the dashboard in the window / resyncs", Inv($"{deltas:N0} / {resyncs}"), "");
        Row(Inv($"socket opened in a namespace → row in chromium, {lat.Count} of {f.Latencies.Trials} trials on {string.Join(", ", f.TrialHosts)}: p50 / p95 / max, ms"),
            Inv($"{Percentile(lat, 0.5):F0} / {p95:F0} / {Percentile(lat, 1):F0}"), Inv($"p95 ≤ interval + 500 ms = {latencyTarget:F0} ({Met(p95 <= latencyTarget && f.Latencies.Missed == 0)}; {f.Latencies.Missed} not seen)"));
        Console.WriteLine();
        Console.WriteLine("Per agent (CPU over the window; RSS highest sampled; sockets at the end):");
        Console.WriteLine();
        Console.WriteLine("| host | sockets | CPU % of a core | RSS MB | VmHWM MB |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var a in f.Agents)
        {
            Console.WriteLine(Inv($"| {a.Name} | {f.HostsAtEnd.GetValueOrDefault(a.Name)?.Sockets} | {a.Cpu * 100:F2} | {a.RssMaxKb / 1024.0:F0} | {a.HwmKb / 1024.0:F0} |"));
        }

        static void Row(string figure, string value, string target) => Console.WriteLine($"| {figure} | {value} | {target} |");
    }

    private async Task StartRedisAsync(CancellationToken cancellationToken)
    {
        _redisDirectory = Directory.CreateDirectory(Path.Combine(_state, "redis")).FullName; // the state: reaped with it
        _redisPort = FreeOr(0);
        var start = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _redisDirectory,
        };
        foreach (var arg in (string[])["--bind", "127.0.0.1", "--port", _redisPort.ToString(CultureInfo.InvariantCulture), "--save", "", "--appendonly", "no",
                     "--unixsocket", RedisSocket, "--unixsocketperm", "777", "--dir", _redisDirectory, "--maxclients", "10000"])
        {
            start.ArgumentList.Add(arg);
        }

        _redis = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        Record("redis", _redis.Id);
        _redis.OutputDataReceived += (_, e) => Keep("redis", e.Data);
        _redis.ErrorDataReceived += (_, e) => Keep("redis!", e.Data);
        _redis.BeginOutputReadLine();
        _redis.BeginErrorReadLine();
        await UntilAsync("redis-server answers on its unix socket and port", () =>
        {
            if (_redis.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with {_redis.ExitCode} (is it installed? bench/fleet.sh installs it)");
            }

            return Task.FromResult(File.Exists(RedisSocket) && Pings(_redisPort));
        }, TimeSpan.FromSeconds(20), cancellationToken);
    }

    private static bool Pings(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            var stream = client.GetStream();
            stream.Write("PING\r\n"u8);
            var buffer = new byte[8];
            return stream.Read(buffer) > 0 && buffer[0] == (byte)'+';
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private async Task<Dictionary<string, string>> RedisInfoAsync(string section)
    {
        var text = (string?)await _redisClient!.GetDatabase().ExecuteAsync("INFO", section) ?? "";
        return text.Split('\n', StringSplitOptions.TrimEntries)
            .Where(l => l.Length > 0 && l[0] != '#' && l.Contains(':', StringComparison.Ordinal))
            .Select(l => l.Split(':', 2))
            .ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
    }

    private async Task<FleetHostProcess> StartHostAsync(int index, CancellationToken cancellationToken)
    {
        var name = $"h{index:00}";
        var ns = $"{_tag}-{index:00}";
        await RunAsync("ip", "netns", "del", ns); // a previous run's, if it was killed and not reaped
        _namespaces.Add(ns);
        await File.AppendAllTextAsync(Path.Combine(_state, "namespaces"), ns + "\n", cancellationToken);
        await CheckedAsync("ip", "netns", "add", ns);
        await CheckedAsync("ip", "-n", ns, "link", "set", "lo", "up");

        var poll = options.PollInterval.ToString("c", CultureInfo.InvariantCulture);
        var generator = $"{Quote(FleetBenchOptions.Python)} {Quote(options.Generator)} --connections {options.Connections} --churn {options.Churn} --duration {options.GeneratorSeconds}";
        var agent = $"dotnet {Quote(options.App)} --PortDashboard:Role=agent --PortDashboard:Fleet:Redis={Quote(RedisSocket)} " +
            $"--PortDashboard:Fleet:HostName={name} --PortDashboard:PollInterval={poll}";
        // sh is pid 1 of the host's PID namespace: when it goes (unshare's --kill-child, when unshare is killed), the
        // kernel kills every process of the namespace, the generator and the agent with it.
        var start = new ProcessStartInfo("ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(options.App)!, // the agent's content root: appsettings.json
        };
        foreach (var arg in (string[])["netns", "exec", ns, "unshare", "--pid", "--fork", "--mount-proc", "--kill-child", "sh", "-c", $"{generator} & {agent} & wait"])
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        start.Environment["Serilog__WriteTo__File__Args__path"] = Path.Combine(_state, "logs", $"agent-{name}-.log");
        foreach (var (key, value) in options.AgentEnvironment)
        {
            start.Environment[key] = value;
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException($"the host {name} did not start");
        Record("host", process.Id); // ip netns exec execs unshare: this pid is unshare's
        var host = new FleetHostProcess(name, new NamespaceSockets(ns), process);
        process.OutputDataReceived += (_, e) => host.Line(e.Data, Keep);
        process.ErrorDataReceived += (_, e) => host.Line(e.Data, Keep);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _hosts.Add(host);
        return host;
    }

    private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static async Task<Dictionary<string, HostState>> HostsAsync(HttpClient http)
    {
        try
        {
            using var document = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/fleet/hosts", UriKind.Relative)));
            return document.RootElement.GetProperty("hosts").EnumerateArray().ToDictionary(
                h => h.GetProperty("name").GetString()!,
                h => new HostState(h.GetProperty("status").GetString()!, h.GetProperty("summary").GetProperty("total").GetInt32(),
                    h.GetProperty("resyncs").GetInt64(), h.GetProperty("sequence").GetInt64()),
                StringComparer.Ordinal);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return [];
        }
    }

    private async Task UntilAsync(string what, Func<Task<bool>> condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            foreach (var host in _hosts.Where(h => h.Process.HasExited))
            {
                throw new InvalidOperationException($"host {host.Name}'s processes exited with {host.Process.ExitCode}");
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"not within {timeout.TotalSeconds:F0} s: {what}");
            }

            await Task.Delay(250, cancellationToken); // polling interval of a condition with a deadline
        }
    }

    /// <summary>Writes "kind pid starttime" for bench/fleet.sh, which kills what is left if this process dies without cleaning up.</summary>
    private void Record(string kind, int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var startTime = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19];
        File.AppendAllText(Path.Combine(_state, "pids"), $"{kind} {pid} {startTime}\n");
    }

    private static int FreeOr(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        catch (SocketException)
        {
            return FreeOr(0);
        }
    }

    private static string Uptime() => File.Exists("/usr/bin/uptime") ? Run("/usr/bin/uptime").Trim() : $"load average {File.ReadAllText("/proc/loadavg").Trim()}";

    private static string Run(string file)
    {
        using var process = Process.Start(new ProcessStartInfo(file) { RedirectStandardOutput = true, UseShellExecute = false })!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output;
    }

    /// <summary>The tests' own runner of <c>ip</c> and friends (tests/Shared/NetworkNamespace.cs, linked into the bench).</summary>
    internal static Task<(int Code, string Output)> RunAsync(string file, params string[] args) =>
        PortDashboard.Testing.NetworkNamespace.RunAsync(file, args);

    private static async Task CheckedAsync(string file, params string[] args)
    {
        var (code, output) = await RunAsync(file, args);
        if (code != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {code}: {output.Trim()}");
        }
    }

    private void Keep(string source, string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue($"[{source}] {line}");
        while (_output.Count > 200 && _output.TryDequeue(out _))
        {
            // the latest lines only
        }
    }

    public void WriteOutput(TextWriter writer)
    {
        foreach (var line in _output.TakeLast(60))
        {
            writer.WriteLine($"  {line}");
        }

        _dashboard?.WriteOutput(writer);
    }

    /// <summary>Stops what was started, in reverse order, each by its pid; deletes the namespaces and the run's files.</summary>
    public async ValueTask DisposeAsync()
    {
        var failures = new List<string>();
        async Task Step(string what, Func<Task> action)
        {
            try
            {
                await action();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                failures.Add($"{what}: {e.Message}");
            }
        }

        await Step("browser", async () =>
        {
            if (_browser is not null)
            {
                await _browser.CloseAsync().WaitAsync(TimeSpan.FromSeconds(20));
            }

            _playwright?.Dispose();
        });
        await Step("dashboard", async () =>
        {
            if (_dashboard is not null)
            {
                await _dashboard.DisposeAsync();
            }
        });
        // Every host at once: SIGKILL to its unshare, whose --kill-child takes the PID namespace down with everything
        // in it (the kernel kills a PID namespace's processes when its pid 1 goes); then wait for them together.
        foreach (var host in _hosts)
        {
            await Step($"host {host.Name}", () =>
            {
                if (!host.Process.HasExited)
                {
                    host.Process.Kill();
                }

                return Task.CompletedTask;
            });
        }

        await Step("hosts", () => Task.WhenAll(_hosts.Select(h => h.Process.WaitForExitAsync())).WaitAsync(TimeSpan.FromSeconds(60)));
        foreach (var host in _hosts)
        {
            host.Process.Dispose();
        }

        foreach (var ns in _namespaces)
        {
            await Step($"namespace {ns}", async () =>
            {
                var (code, output) = await RunAsync("ip", "netns", "del", ns);
                if (code != 0 && !output.Contains("No such file", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException(output.Trim());
                }
            });
        }

        await Step("redis client", async () =>
        {
            if (_redisClient is not null)
            {
                await _redisClient.DisposeAsync();
            }
        });
        await Step("redis-server", async () =>
        {
            if (_redis is not null)
            {
                await Kill(_redis);
            }

            if (_redisDirectory is not null)
            {
                Directory.Delete(_redisDirectory, recursive: true);
            }
        });
        await Step("files", () =>
        {
            if (_ownState && _state.Length > 0)
            {
                Directory.Delete(_state, recursive: true);
            }

            return Task.CompletedTask;
        });
        foreach (var failure in failures)
        {
            Console.Error.WriteLine($"fleet: cleaning up {failure}");
        }

        var left = (await RunAsync("ip", "netns", "list")).Output.Split('\n').Count(l => l.StartsWith(_tag + "-", StringComparison.Ordinal));
        Console.Error.WriteLine($"fleet: cleaned up: {_hosts.Count} hosts and their namespaces, the dashboard, redis-server{(left > 0 ? $"; {left} namespaces still listed" : "")}");
    }

    private static async Task Kill(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        process.Dispose();
    }
}

/// <summary>One host of the run: its namespace, the <c>unshare</c> process holding its PID namespace, its agent's pid.</summary>
internal sealed class FleetHostProcess(string name, NamespaceSockets ns, Process process)
{
    public string Name { get; } = name;

    public NamespaceSockets Namespace { get; } = ns;

    public Process Process { get; } = process;

    /// <summary>The generator said "ready": its connections are open.</summary>
    public bool Ready { get; private set; }

    /// <summary>The agent's pid, as the host's PID namespace's parent sees it.</summary>
    public int AgentPid { get; private set; }

    public void Line(string? line, Action<string, string?> keep)
    {
        if (line is null)
        {
            return;
        }

        if (line.StartsWith("ready ", StringComparison.Ordinal))
        {
            Ready = true;
        }

        keep(Name, line);
    }

    /// <summary>Finds the agent among the children of the namespace's sh (unshare's child).</summary>
    public bool FindAgent()
    {
        if (AgentPid != 0)
        {
            return true;
        }

        foreach (var shell in Children(Process.Id))
        {
            foreach (var child in Children(shell))
            {
                try
                {
                    if (File.ReadAllText($"/proc/{child}/cmdline").Contains("--PortDashboard:Role=agent", StringComparison.Ordinal))
                    {
                        AgentPid = child;
                        return true;
                    }
                }
                catch (IOException)
                {
                    // gone
                }
            }
        }

        return false;
    }

    private static List<int> Children(int pid)
    {
        var children = new List<int>();
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                children.AddRange(File.ReadAllText(Path.Combine(task, "children"))
                    .Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(c => int.Parse(c, CultureInfo.InvariantCulture)));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // gone
        }

        return children;
    }
}

/// <summary>Opens sockets inside a network namespace: from a thread that joined it with setns(2) (a socket stays in the namespace it was made in).</summary>
internal sealed partial class NamespaceSockets(string name)
{
    private const int CloneNewNet = 0x40000000;

    private readonly HashSet<int> _used = [];

    public string Name { get; } = name;

    /// <summary>
    /// A listener on <paramref name="address"/> on a port this namespace's trials never had (the page keeps a closed row
    /// for a few seconds and the observer keeps a port's first sighting), and the moment it listened.
    /// </summary>
    public TrialListener Listen(IPAddress address)
    {
        TrialListener? opened = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle($"/run/netns/{Name}");
                if (SetNs((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                {
                    throw new InvalidOperationException($"setns({Name}) failed: errno {Marshal.GetLastPInvokeError()}");
                }

                while (opened is null)
                {
                    var listener = new TcpListener(address, 0);
                    listener.Start();
                    var openedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                    var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                    if (_used.Add(port))
                    {
                        opened = new TrialListener(listener, port, openedAt);
                    }
                    else
                    {
                        listener.Stop();
                    }
                }
            }
            catch (Exception e) when (e is InvalidOperationException or SocketException or IOException)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join(); // the thread, and its namespace, ends here; the listener stays in it
        return opened ?? throw new InvalidOperationException($"listening in {Name}: {failure?.Message}", failure);
    }

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);
}

internal sealed class TrialListener(TcpListener listener, int port, long openedAt) : IDisposable
{
    public int Port { get; } = port;

    /// <summary>When it listened, ms since the epoch (the clock chromium's <c>Date.now()</c> reads).</summary>
    public long OpenedAt { get; } = openedAt;

    public void Dispose() => listener.Stop();
}
