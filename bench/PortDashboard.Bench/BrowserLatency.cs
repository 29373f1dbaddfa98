using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Playwright;

namespace PortDashboard.Bench;

/// <summary>
/// How long a socket takes from being opened to being on screen: the published app runs at its poll interval, a
/// headless chromium shows the Connections page filtered to one loopback address, and each trial opens a listener on
/// that address at a random moment of the poll cycle. A MutationObserver in the page stamps the moment the listener's
/// port enters the DOM (<c>Date.now()</c>, the same clock as this process's), so the figure covers the poll wait, the
/// snapshot, the diff, the feed, the Blazor render and its trip over the circuit's WebSocket, and the DOM update.
/// </summary>
internal static class BrowserLatency
{
    /// <summary>The address the trials' listeners bind: no other socket on the machine uses it, so the page shows only them.</summary>
    private static readonly IPAddress TrialAddress = IPAddress.Parse("127.0.0.77");

    // Records, once per port, when a port first appears in the local-port column.
    internal const string InstallObserver = """
        () => {
          if (window.__firstSeen) return;
          window.__firstSeen = {};
          const scan = () => {
            const now = Date.now();
            for (const cell of document.querySelectorAll('td.col-local-port .port')) {
              const port = cell.textContent.trim();
              if (!(port in window.__firstSeen)) window.__firstSeen[port] = now;
            }
          };
          scan();
          new MutationObserver(scan).observe(document.body, { childList: true, subtree: true, characterData: true });
        }
        """;

    public static async Task<int> RunAsync(Arguments args)
    {
        var app = Path.GetFullPath(args.String("app") ?? throw new ArgumentException("--app <path to the published PortDashboard.dll> is required"));
        var trials = args.Int("trials", 50);
        var pollMs = args.Int("poll-ms", 1000);
        var port = args.Int("port", 5198);
        var chromium = args.String("chromium") ?? "/usr/bin/chromium";
        var pollInterval = TimeSpan.FromMilliseconds(pollMs);
        var target = pollInterval + TimeSpan.FromMilliseconds(200);

        await using var server = AppProcess.Start(app, port, pollInterval);
        try
        {
            var baseUri = new Uri($"http://127.0.0.1:{port}");
            await server.WaitHealthyAsync(baseUri, TimeSpan.FromSeconds(90));

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = chromium,
                Headless = true,
                Args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking"],
            });
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1440, Height = 900 } });
            await page.GotoAsync(new Uri(baseUri, $"/?address={TrialAddress}").ToString());
            await page.Locator(".socket-grid").WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 });

            // Interactive once the circuit has rendered a live update: wait for one trial socket to show up first.
            await page.EvaluateAsync(InstallObserver);
            var used = new HashSet<int>();
            using (var warmUp = Listen(used))
            {
                await WaitSeenAsync(page, ((IPEndPoint)warmUp.LocalEndpoint).Port, TimeSpan.FromSeconds(60));
            }

            var random = new Random(5);
            var latencies = new List<double>(trials);
            var missed = 0;
            for (var i = 0; i < trials; i++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(random.Next(pollMs) + 50)); // a random moment of the poll cycle
                using var listener = Listen(used);
                var openedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                var listenerPort = ((IPEndPoint)listener.LocalEndpoint).Port;
                var seenAt = await WaitSeenAsync(page, listenerPort, pollInterval * 10);
                if (seenAt is { } seen)
                {
                    latencies.Add(seen - openedAt);
                }
                else
                {
                    missed++;
                }
            }

            latencies.Sort();
            double Percentile(double p) => latencies.Count == 0 ? double.NaN : latencies[Math.Clamp((int)Math.Ceiling(p * latencies.Count) - 1, 0, latencies.Count - 1)];
            var p95 = Percentile(0.95);
            Console.WriteLine($"Socket opened → visible in chromium, {trials} trials at a {pollMs} ms poll interval, table of {Timings.SocketCount()} sockets; load average {Timings.Load()}:");
            Console.WriteLine();
            Console.WriteLine("| figure | ms |");
            Console.WriteLine("|---|---:|");
            Console.WriteLine($"| min | {Percentile(0):F0} |");
            Console.WriteLine($"| median | {Percentile(0.5):F0} |");
            Console.WriteLine($"| p95 | {p95:F0} |");
            Console.WriteLine($"| max | {Percentile(1):F0} |");
            Console.WriteLine($"| target: poll interval + 200 ms | {target.TotalMilliseconds:F0} |");
            Console.WriteLine();
            Console.WriteLine($"p95 is {p95 / target.TotalMilliseconds:F3}× the target ({(p95 <= target.TotalMilliseconds ? "met" : "missed")}); {latencies.Count} seen, {missed} not seen within {pollInterval * 10}.");
            return missed == 0 ? 0 : 1;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"browser latency measurement failed: {e.Message}");
            server.WriteOutput(Console.Error);
            return 1;
        }
    }

    /// <summary>
    /// A listener on a port no earlier trial had: the page keeps a closed row for a few seconds and the observer keeps
    /// the first sighting of each port, so a port the kernel hands out again would be "seen" before it was opened.
    /// </summary>
    private static TcpListener Listen(HashSet<int> used)
    {
        while (true)
        {
            var listener = new TcpListener(TrialAddress, 0);
            listener.Start();
            if (used.Add(((IPEndPoint)listener.LocalEndpoint).Port))
            {
                return listener;
            }

            listener.Stop();
        }
    }

    /// <summary>When the page first showed <paramref name="port"/> (ms since the epoch), or null when it did not within the timeout.</summary>
    internal static async Task<long?> WaitSeenAsync(IPage page, int port, TimeSpan timeout)
    {
        var key = port.ToString(CultureInfo.InvariantCulture);
        try
        {
            var handle = await page.WaitForFunctionAsync(
                "port => window.__firstSeen && window.__firstSeen[port]",
                key,
                new PageWaitForFunctionOptions { Timeout = (float)timeout.TotalMilliseconds, PollingInterval = 50 });
            return (long)await handle.JsonValueAsync<double>();
        }
        catch (TimeoutException)
        {
            return null;
        }
    }
}

/// <summary>The app as a child process on a loopback port (Production, warnings only), killed on dispose.</summary>
internal sealed class AppProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Queue<string> _output = new();

    private AppProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public static AppProcess Start(string appDll, int port, TimeSpan pollInterval, IEnumerable<KeyValuePair<string, string>>? environment = null)
    {
        // Another app on the port would answer /healthz in this one's place (the machine is shared): refuse instead.
        try
        {
            using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
            probe.Start();
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new ArgumentException($"port {port} on 127.0.0.1 is taken ({e.SocketErrorCode}): pass --port with a free one");
        }

        var start = new ProcessStartInfo("dotnet", [appDll, "--urls", $"http://127.0.0.1:{port}"])
        {
            WorkingDirectory = Path.GetDirectoryName(appDll)!,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["PortDashboard__PollInterval"] = pollInterval.ToString("c", CultureInfo.InvariantCulture);
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in environment ?? [])
        {
            start.Environment[key] = value;
        }

        var app = new AppProcess(Process.Start(start)!);
        app._process.OutputDataReceived += (_, e) => app.Keep(e.Data);
        app._process.ErrorDataReceived += (_, e) => app.Keep(e.Data);
        app._process.BeginOutputReadLine();
        app._process.BeginErrorReadLine();
        return app;
    }

    /// <summary><c>--env K=V,K=V</c>: settings for the app's environment (configuration keys with <c>__</c>).</summary>
    public static List<KeyValuePair<string, string>> ParseEnvironment(string? settings)
    {
        var environment = new List<KeyValuePair<string, string>>();
        foreach (var setting in (settings ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var at = setting.IndexOf('=', StringComparison.Ordinal);
            if (at <= 0)
            {
                throw new ArgumentException($"--env takes K=V,K=V; '{setting}' has no '='");
            }

            environment.Add(new(setting[..at], setting[(at + 1)..]));
        }

        return environment;
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Enqueue(line);
            if (_output.Count > 20)
            {
                _output.Dequeue();
            }
        }
    }

    /// <summary>The last lines the app printed.</summary>
    public void WriteOutput(TextWriter writer)
    {
        lock (_output)
        {
            foreach (var line in _output)
            {
                writer.WriteLine($"  [server] {line}");
            }
        }
    }

    /// <summary>Waits until /healthz is healthy and past the first snapshot (sequence 1).</summary>
    public async Task WaitHealthyAsync(Uri baseUri, TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the server exited with code {_process.ExitCode}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri("/healthz", UriKind.Relative));
                if (response.IsSuccessStatusCode
                    && System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.TryGetProperty("sequence", out var sequence)
                    && sequence.GetInt64() > 0)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (TaskCanceledException)
            {
                // busy taking its first snapshot
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"the server did not answer /healthz within {timeout}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
