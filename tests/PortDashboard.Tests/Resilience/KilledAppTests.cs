using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using PortDashboard.Tests.Insight.Support;
using PortDashboard.Tests.Support;

namespace PortDashboard.Tests.Resilience;

/// <summary>
/// The app as a real process (the build output beside this test's, <c>dotnet PortDashboard.dll</c>), with history on
/// and loopback connections opening and closing at every poll so the history writer is committing batches most of the
/// time, killed with SIGKILL at a random moment, several times over, and started again on the same database each time.
/// </summary>
public sealed class KilledAppTests : IDisposable
{
    private const int Kills = 3;
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly string _scratch = Path.Combine(Path.GetTempPath(), $"portdashboard-killed-{Guid.NewGuid():N}");
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public KilledAppTests() => Directory.CreateDirectory(_scratch);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    /// <summary>The app's build output: the test project references it, so it is built in this test's configuration.</summary>
    private static string AppDll()
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var (framework, configuration) = (testOutput.Name, testOutput.Parent!.Name);
        var root = testOutput;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "PortDashboard.sln")))
        {
            root = root.Parent;
        }

        return Path.Combine(root?.FullName ?? throw new InvalidOperationException("no PortDashboard.sln above " + AppContext.BaseDirectory), "src", "PortDashboard", "bin", configuration, framework, "PortDashboard.dll");
    }

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_scratch, recursive: true);
    }

    [Fact]
    public async Task Killed_with_sigkill_while_writing_history_the_app_restarts_on_the_same_database_keeps_every_committed_row_and_the_open_sockets_keep_their_birth()
    {
        using var listener = new InsightApp.Listener();
        using var kept = await listener.ConnectAsync(); // open across every restart
        var keptPort = ((IPEndPoint)kept.LocalEndPoint!).Port;
        using var churn = new Churn();
        var random = new Random();

        Dictionary<string, DateTimeOffset>? committed = null;
        DateTimeOffset? listenerFirstSeen = null;
        for (var run = 0; run <= Kills; run++)
        {
            var (app, baseAddress) = await StartAsync();
            try
            {
                // The history opened (SQLite recovered the WAL of the killed run) and answers.
                var history = await HistoryAsync(baseAddress, listener.Port, keptPort, churn.Port);
                var birth = Births(history);
                if (committed is not null)
                {
                    var lost = committed.Where(row => !birth.TryGetValue(row.Key, out var at) || at != row.Value).Select(row => row.Key).ToList();
                    Assert.True(lost.Count == 0, $"run {run}: rows committed before the kill are missing or changed: {string.Join(", ", lost)}");
                }

                // The sockets open across the restart keep their birth, in the history and in the live view.
                var firstSeen = await FirstSeenAsync(baseAddress, listener.Port);
                if (listenerFirstSeen is { } before)
                {
                    Assert.Equal(before.ToUnixTimeMilliseconds(), firstSeen.ToUnixTimeMilliseconds());
                }

                listenerFirstSeen ??= firstSeen;
                if (run == Kills)
                {
                    break;
                }

                // Churned connections are being written: wait until some of this run's are in, then kill at a
                // random moment within the next polls, while batches are being committed.
                var rows = birth.Count;
                await Eventually.WaitUntil(async () => Births(await HistoryAsync(baseAddress, listener.Port, keptPort, churn.Port)).Count > rows + 20, $"run {run}: churned connections in the history");
                committed = Births(await HistoryAsync(baseAddress, listener.Port, keptPort, churn.Port));
                await Task.Delay(random.Next(0, 10 * (int)PollInterval.TotalMilliseconds), Cancellation); // the moment of the kill, not a wait for a condition
                app.Kill(); // SIGKILL
                await app.WaitForExitAsync(Cancellation);
                Assert.Equal(137, app.ExitCode);
            }
            finally
            {
                if (!app.HasExited)
                {
                    app.Kill();
                    await app.WaitForExitAsync(CancellationToken.None);
                }

                app.Dispose();
            }
        }

        Assert.True(churn.Connections > 0);
        TestContext.Current.TestOutputHelper?.WriteLine($"{Kills} kills, {churn.Connections} churned connections, {committed?.Count} rows checked after the last");
    }

    /// <summary>Every socket of the history (by its inode and ports), with its birth.</summary>
    private static Dictionary<string, DateTimeOffset> Births(JsonElement history)
    {
        var births = new Dictionary<string, DateTimeOffset>();
        foreach (var e in history.GetProperty("events").EnumerateArray().Where(e => e.GetProperty("event").GetString() == "opened"))
        {
            var socket = e.GetProperty("socket");
            var inode = socket.GetProperty("inode").GetInt64();
            if (inode != 0) // not a TIME_WAIT remnant, which has no inode
            {
                births.TryAdd($"{inode} {socket.GetProperty("local").GetProperty("port").GetInt32()}-{socket.GetProperty("remote").GetProperty("port").GetInt32()}", e.GetProperty("bornAt").GetDateTimeOffset());
            }
        }

        return births;
    }

    private async Task<JsonElement> HistoryAsync(Uri baseAddress, params int[] ports)
    {
        JsonElement history = default;
        var query = string.Join(',', ports);
        await Eventually.WaitUntil(async () =>
        {
            using var response = await _http.GetAsync(new Uri(baseAddress, $"/api/history?from=-1h&limit=10000&port={query}"), Cancellation);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return false; // the history is not open yet
            }

            history = await response.Content.ReadFromJsonAsync<JsonElement>(Cancellation);
            return history.GetProperty("events").EnumerateArray().Any(e => e.GetProperty("socket").GetProperty("state").GetString() == "listen");
        }, "the history answers with the listener", StartTimeout);
        return history;
    }

    private async Task<DateTimeOffset> FirstSeenAsync(Uri baseAddress, int port)
    {
        DateTimeOffset firstSeen = default;
        await Eventually.WaitUntil(async () =>
        {
            var snapshot = await _http.GetFromJsonAsync<JsonElement>(new Uri(baseAddress, $"/api/snapshot?port={port}&state=listen"), Cancellation);
            var socket = snapshot.GetProperty("sockets").EnumerateArray().FirstOrDefault();
            if (socket.ValueKind != JsonValueKind.Object || socket.GetProperty("firstSeen").ValueKind != JsonValueKind.String)
            {
                return false;
            }

            firstSeen = socket.GetProperty("firstSeen").GetDateTimeOffset();
            return true;
        }, "the listener in the live snapshot with its first-seen time", StartTimeout);
        return firstSeen;
    }

    private async Task<(Process App, Uri BaseAddress)> StartAsync()
    {
        var port = FreePort();
        var baseAddress = new Uri($"http://127.0.0.1:{port}/");
        var dll = AppDll();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(baseAddress.GetLeftPart(UriPartial.Authority));
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["PortDashboard__PollInterval"] = PollInterval.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["PortDashboard__ReverseDns__Enabled"] = "false";
        start.Environment["PortDashboard__History__Path"] = Path.Combine(_scratch, "history.db");
        start.Environment["Serilog__WriteTo__File__Args__path"] = Path.Combine(_scratch, "portdashboard-.log");
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        var app = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        app.OutputDataReceived += (_, e) => Keep(e.Data);
        app.ErrorDataReceived += (_, e) => Keep(e.Data);
        app.BeginOutputReadLine();
        app.BeginErrorReadLine();
        await Eventually.WaitUntil(async () =>
        {
            Assert.False(app.HasExited, "the app exited before it was healthy");
            try
            {
                using var response = await _http.GetAsync(new Uri(baseAddress, "/healthz"), Cancellation);
                return response.StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false; // not listening yet
            }
            catch (TaskCanceledException) when (!Cancellation.IsCancellationRequested)
            {
                return false; // listening, but a loaded machine's start-up took longer than one request's timeout
            }
        }, "/healthz answers 200", StartTimeout);
        return (app, baseAddress);
    }

    private static void Keep(string? line)
    {
        if (line is not null)
        {
            TestContext.Current.TestOutputHelper?.WriteLine($"[app] {line}");
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>Loopback connections to a listener of its own, each opened and closed a few milliseconds later, until disposed.</summary>
    private sealed class Churn : IDisposable
    {
        private readonly System.Net.Sockets.Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private long _connections;

        public Churn()
        {
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen(512);
            _loop = Task.Run(LoopAsync);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

        public long Connections => Interlocked.Read(ref _connections);

        public void Dispose()
        {
            _stop.Cancel();
            try
            {
                _loop.Wait(TimeSpan.FromSeconds(10));
            }
            catch (AggregateException)
            {
            }

            _listener.Dispose();
            _stop.Dispose();
        }

        private async Task LoopAsync()
        {
            var token = _stop.Token;
            try
            {
                while (!token.IsCancellationRequested)
                {
                    // A few connections live through one poll each, so every poll has births and deaths to write.
                    var open = new List<System.Net.Sockets.Socket>();
                    for (var i = 0; i < 10; i++)
                    {
                        var client = new System.Net.Sockets.Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                        await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Port), token);
                        open.Add(client);
                        open.Add(await _listener.AcceptAsync(token));
                        Interlocked.Increment(ref _connections);
                    }

                    await Task.Delay(PollInterval * 1.5, token); // the churn's own pace, bounded by the test's lifetime
                    open.ForEach(s => s.Dispose());
                }
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
