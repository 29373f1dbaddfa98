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

        var environment = AppProcess.ParseEnvironment(args.String("env")); // e.g. DOTNET_gcServer=0 to compare
        await using var server = AppProcess.Start(app, port, TimeSpan.FromSeconds(1), environment);
        var clients = new List<HubClient>();
        try
        {
            var baseUri = new Uri($"http://127.0.0.1:{port}");
            await server.WaitHealthyAsync(baseUri, TimeSpan.FromSeconds(90));
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
            server.WriteOutput(Console.Error);
            return 1;
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }

        }
    }

    /// <summary>utime + stime of a process, in seconds (fields 14 and 15 of its stat, in clock ticks of 1/100 s).</summary>
    internal static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    internal static long StatusKb(int pid, string key)
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
