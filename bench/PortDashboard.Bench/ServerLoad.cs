using System.Diagnostics;
using System.Globalization;
using PortDashboard.Hubs;

namespace PortDashboard.Bench;

/// <summary>
/// Runs the app as a separate process at 1 Hz polling on the current table, with hub subscribers connected, and
/// reports its CPU share (utime + stime over the window), its RSS and the hub's bytes per delta as received.
/// </summary>
internal static class ServerLoad
{
    public static async Task<int> RunAsync(Arguments args)
    {
        var app = Path.GetFullPath(args.String("app") ?? throw new ArgumentException("--app <path to PortDashboard.dll> is required"));
        var seconds = args.Int("seconds", 60);
        var warmup = args.Int("warmup", 15);
        var port = args.Int("port", 5199);
        var fullJson = args.Flag("full-json");

        var start = new ProcessStartInfo("dotnet", [app, "--urls", $"http://127.0.0.1:{port}"])
        {
            WorkingDirectory = Path.GetDirectoryName(app)!,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["PortDashboard__PollInterval"] = "00:00:01";
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var setting in (args.String("env") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = (setting[..setting.IndexOf('=', StringComparison.Ordinal)], setting[(setting.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            start.Environment[key] = value; // e.g. DOTNET_gcServer=0 to compare
        }

        using var server = Process.Start(start)!;
        var output = new Queue<string>();
        void Keep(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (output)
            {
                output.Enqueue(line);
                if (output.Count > 20)
                {
                    output.Dequeue();
                }
            }
        }

        server.OutputDataReceived += (_, e) => Keep(e.Data);
        server.ErrorDataReceived += (_, e) => Keep(e.Data);
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();

        var clients = new List<HubClient>();
        try
        {
            var baseUri = new Uri($"http://127.0.0.1:{port}");
            await WaitHealthyAsync(baseUri, server, TimeSpan.FromSeconds(90));
            var hub = new Uri($"ws://127.0.0.1:{port}{SocketsHub.Path}");
            clients.Add(await HubClient.ConnectAsync(hub, "JSON, filter port=1 (idle ticks)", messagePack: false, "port=1"));
            clients.Add(await HubClient.ConnectAsync(hub, "MessagePack, whole table", messagePack: true, null));
            if (fullJson)
            {
                clients.Add(await HubClient.ConnectAsync(hub, "JSON, whole table", messagePack: false, null));
            }

            await Task.Delay(TimeSpan.FromSeconds(warmup));
            foreach (var client in clients)
            {
                client.ResetCounts();
            }

            var (cpuBefore, watch) = (CpuSeconds(server.Id), Stopwatch.StartNew());
            long maxRss = 0;
            for (var i = 0; i < seconds; i++)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
                maxRss = Math.Max(maxRss, StatusKb(server.Id, "VmRSS:"));
            }

            var cpu = (CpuSeconds(server.Id) - cpuBefore) / watch.Elapsed.TotalSeconds;
            Console.WriteLine($"Server at 1 Hz polling, {seconds} s after {warmup} s of warm-up{(args.String("env") is { } env ? $", with {env}" : "")}; load average {Timings.Load()}:");
            Console.WriteLine();
            Console.WriteLine("| figure | value |");
            Console.WriteLine("|---|---:|");
            Console.WriteLine($"| CPU, share of one core | {cpu * 100:F2}% |");
            Console.WriteLine($"| RSS at the end | {StatusKb(server.Id, "VmRSS:") / 1024.0:F0} MB |");
            Console.WriteLine($"| RSS, highest sampled in the window | {maxRss / 1024.0:F0} MB |");
            Console.WriteLine($"| RSS peak since start (VmHWM, includes the first whole-table message) | {StatusKb(server.Id, "VmHWM:") / 1024.0:F0} MB |");
            Console.WriteLine();
            Console.WriteLine("| subscriber | first message bytes | deltas | median bytes/delta | p95 bytes/delta | max | median changes/delta | bytes/change |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var client in clients)
            {
                Console.WriteLine(client.Summary());
            }

            return 0;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"server measurement failed: {e.Message}");
            lock (output)
            {
                foreach (var line in output)
                {
                    Console.Error.WriteLine($"  [server] {line}");
                }
            }

            return 1;
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }

            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
        }
    }

    private static async Task WaitHealthyAsync(Uri baseUri, Process server, TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (server.HasExited)
            {
                throw new InvalidOperationException($"the server exited with code {server.ExitCode}");
            }

            try
            {
                // Healthy and past its first snapshot (sequence 1), so a subscriber's first message is the whole table.
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

    /// <summary>utime + stime of a process, in seconds (fields 14 and 15 of its stat, in clock ticks of 1/100 s).</summary>
    private static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    private static long StatusKb(int pid, string key)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                return long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
