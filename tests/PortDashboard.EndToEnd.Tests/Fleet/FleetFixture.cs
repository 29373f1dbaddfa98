using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using PortDashboard.Testing;

namespace PortDashboard.EndToEnd.Tests.Fleet;

/// <summary>
/// A fleet on this machine, from the published app: a Redis of its own, three network namespaces each with its own
/// listeners and connections and an agent inside (reaching Redis by its unix socket), and one dashboard on loopback
/// reading them all. Everything is stopped by pid and the namespaces deleted at the end.
/// </summary>
public sealed class FleetFixture(PublishedApp app) : IAsyncLifetime
{
    /// <summary>The agents' poll (and heartbeat) interval; "offline within 3 intervals" is counted in it.</summary>
    public static readonly TimeSpan AgentInterval = TimeSpan.FromSeconds(1);

    public static readonly string[] HostNames = ["fleet-a", "fleet-b", "fleet-c"];

    private readonly ConcurrentQueue<string> _output = new();
    private readonly Dictionary<string, Process> _agents = [];
    private readonly List<string> _histories = [];
    private readonly List<Process> _others = [];
    private Process? _dashboard;

    public RedisProcess Redis { get; private set; } = default!;

    public Dictionary<string, NetworkNamespace> Namespaces { get; } = [];

    public HttpClient Http { get; private set; } = default!;

    public async ValueTask InitializeAsync()
    {
        Redis = await RedisProcess.StartAsync();
        foreach (var name in HostNames)
        {
            Namespaces[name] = await NetworkNamespace.CreateAsync(name[^1..]);
        }

        // Each host its own table: a has a registered-range listener exposed on every address, b a well-known one on
        // loopback, c a well-known one exposed; connections to them, and UDP sockets.
        Namespaces["fleet-a"].Listen(IPAddress.Any, 6379, connections: 2);
        Namespaces["fleet-a"].BindUdp(5353);
        Namespaces["fleet-b"].Listen(IPAddress.Loopback, 80, connections: 1);
        Namespaces["fleet-b"].Listen(IPAddress.Any, 8080, connections: 0);
        Namespaces["fleet-c"].Listen(IPAddress.Any, 22, connections: 1);
        Namespaces["fleet-c"].BindUdp(123);

        foreach (var name in HostNames)
        {
            StartAgent(name);
        }

        await StartDashboardAsync();
    }

    public void StartAgent(string name)
    {
        var start = Start("ip", ["netns", "exec", Namespaces[name].Name, "dotnet", Path.Combine(app.PublishDirectory, "PortDashboard.dll"), "agent",
            $"--PortDashboard:Fleet:Redis={Redis.SocketPath}", $"--PortDashboard:Fleet:HostName={name}",
            $"--PortDashboard:PollInterval={AgentInterval.ToString("c", CultureInfo.InvariantCulture)}",
            "--PortDashboard:Fleet:SnapshotInterval=00:00:10"]);
        _agents[name] = Launch(start, name);
    }

    /// <summary>Kills an agent by its pid (<c>ip netns exec</c> execs the agent, so the pid is the agent's).</summary>
    public async Task KillAgentAsync(string name)
    {
        var agent = _agents[name];
        agent.Kill();
        await agent.WaitForExitAsync();
        agent.Dispose();
        _agents.Remove(name);
    }

    private async Task StartDashboardAsync()
    {
        (_dashboard, var http) = await StartDashboardAsync("dashboard", Redis.TcpConfiguration);
        Http = http;
    }

    /// <summary>Another dashboard on its own loopback port reading <paramref name="redis"/> (stopped with the fixture).</summary>
    public async Task<HttpClient> StartOtherDashboardAsync(string name, string redis, params string[] args)
    {
        var (process, http) = await StartDashboardAsync(name, redis, args);
        _others.Add(process);
        return http;
    }

    private async Task<(Process Process, HttpClient Http)> StartDashboardAsync(string name, string redis, params string[] args)
    {
        var port = FreeLoopbackPort();
        var history = Path.Combine(Path.GetTempPath(), $"pd-fleet-history-{Guid.NewGuid():N}.db");
        _histories.Add(history);
        var start = Start("dotnet", [Path.Combine(app.PublishDirectory, "PortDashboard.dll"), "--urls", $"http://127.0.0.1:{port}",
            $"--PortDashboard:Fleet:Redis={redis}", $"--PortDashboard:History:Path={history}", "--PortDashboard:PollInterval=00:00:01", .. args]);
        var process = Launch(start, name);
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(10) };
        await Until($"{name} answers /healthz", async () =>
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{name} exited with {process.ExitCode}\n{Describe()}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri("healthz", UriKind.Relative));
                return response.StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60));
        return (process, http);
    }

    /// <summary>Whether a dashboard started by <see cref="StartOtherDashboardAsync"/> is still running.</summary>
    public bool AllRunning => _others.All(p => !p.HasExited);

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await Http.GetAsync(new Uri(path, UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"GET {path}: {(int)response.StatusCode} {body}");
        }

        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>/api/fleet/hosts's entry for each host, by name.</summary>
    public async Task<Dictionary<string, JsonElement>> HostsAsync() =>
        (await GetJsonAsync("api/fleet/hosts")).GetProperty("hosts").EnumerateArray().ToDictionary(h => h.GetProperty("name").GetString()!);

    /// <summary>One host's sockets as the dashboard shows them, as "protocol local remote" lines, sorted.</summary>
    public static List<string> Lines(JsonElement host) =>
        [.. host.GetProperty("sockets").EnumerateArray().Select(s =>
            $"{s.GetProperty("protocol").GetString()} {Endpoint(s.GetProperty("local"))} {Endpoint(s.GetProperty("remote"))}").Order(StringComparer.Ordinal)];

    public async Task<List<string>> ReferenceAsync(string name) =>
        [.. (await Namespaces[name].SocketTableAsync()).Select(s => $"{s.Protocol} {s.Local} {s.Remote}").Order(StringComparer.Ordinal)];

    private static string Endpoint(JsonElement endpoint) =>
        $"{endpoint.GetProperty("address").GetString()}:{endpoint.GetProperty("port").GetInt32()}";

    /// <summary>Waits until every host is online and the dashboard shows exactly its namespace's <c>ss -tunaH</c>.</summary>
    public Task UntilEveryHostMatchesAsync(TimeSpan timeout) => Until("every host online with exactly its namespace's table", async () =>
    {
        var snapshot = await GetJsonAsync("api/fleet/snapshot");
        var hosts = snapshot.GetProperty("hosts").EnumerateArray().ToDictionary(h => h.GetProperty("host").GetString()!);
        foreach (var name in HostNames)
        {
            if (!hosts.TryGetValue(name, out var host) || host.GetProperty("status").GetString() != "online"
                || host.GetProperty("stale").GetBoolean() || !Lines(host).SequenceEqual(await ReferenceAsync(name)))
            {
                return false;
            }
        }

        return true;
    }, timeout);

    public async Task Until(string what, Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"not within {timeout.TotalSeconds} s: {what}\n{Describe()}");
            }

            await Task.Delay(100); // polling interval of a condition with a deadline
        }
    }

    public string Describe()
    {
        var builder = new StringBuilder("Fleet processes' latest output:\n");
        foreach (var line in _output.TakeLast(150))
        {
            builder.AppendLine(line);
        }

        return builder.ToString();
    }

    private static ProcessStartInfo Start(string file, string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        return start;
    }

    private Process Launch(ProcessStartInfo start, string name)
    {
        start.WorkingDirectory = app.PublishDirectory;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{name} did not start");
        process.OutputDataReceived += (_, e) => Keep(name, e.Data);
        process.ErrorDataReceived += (_, e) => Keep(name + "!", e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private void Keep(string source, string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue($"[{source}] {line}");
        while (_output.Count > 1000 && _output.TryDequeue(out _))
        {
            // Keep the latest lines only.
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        Http?.Dispose();
        foreach (var process in _agents.Values.Append(_dashboard).Concat(_others).OfType<Process>())
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }

        foreach (var ns in Namespaces.Values)
        {
            await ns.DisposeAsync();
        }

        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }

        foreach (var history in _histories)
        {
            File.Delete(history);
            File.Delete(history + "-wal");
            File.Delete(history + "-shm");
        }
    }
}
