using System.Diagnostics;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Reading.Netlink;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Bench;

/// <summary>
/// Times PortDashboard's snapshot against ss, lsof, netstat and cat /proc/net/tcp* on the SAME socket table, in the
/// same run, and prints each ratio (median wall time of many runs).
/// </summary>
internal static class Timings
{
    public static int Run(Arguments args)
    {
        var runs = args.Int("runs", 15);
        var maxSeconds = args.Double("max-seconds", 20);
        var tickMs = args.Int("tick-ms", 1000);
        var skipSlow = args.Flag("skip-slow");
        var results = new List<(string Name, double Milliseconds, int Runs, string Note)>();

        void Record(string name, Func<string> action, int pauseMs = 0, int? maxRuns = null)
        {
            action(); // warm-up (JIT, page cache, dentries): steady state unless the action itself is cold
            var samples = new List<double>();
            var budget = Stopwatch.StartNew();
            var note = "";
            var wanted = maxRuns ?? runs;
            while (samples.Count < wanted && (samples.Count < 3 || budget.Elapsed.TotalSeconds < maxSeconds))
            {
                if (pauseMs > 0)
                {
                    Thread.Sleep(pauseMs);
                }

                var watch = Stopwatch.StartNew();
                note = action();
                samples.Add(watch.Elapsed.TotalMilliseconds);
            }

            samples.Sort();
            var median = samples[samples.Count / 2];
            results.Add((name, median, samples.Count, note));
            Console.Error.WriteLine($"  {name,-52} {median,10:F1} ms  ({samples.Count} runs) {note}");
        }

        var netlink = NetlinkReader.TryCreate(out var whyNot) ?? throw new InvalidOperationException($"netlink refused: {whyNot}");
        var procNet = new ProcNetReader("/proc");
        var socketCount = netlink.Read().Sockets.Count;
        Console.Error.WriteLine($"Socket table: {socketCount} sockets (TCP+UDP, IPv4+IPv6). Median of up to {runs} runs each; load {Load()}.");

        Record("PortDashboard netlink, no owners", () => $"{netlink.Read().Sockets.Count} sockets");
        Record("PortDashboard /proc/net, no owners", () => $"{procNet.Read().Sockets.Count} sockets");
        Record("PortDashboard snapshot + owners, cold", () =>
        {
            // A new snapshotter: nothing known about any process (names, users, descriptors).
            var snapshotter = new Snapshotter(netlink, new SnapshotterOptions());
            return Describe(snapshotter, snapshotter.Take());
        });

        var full = new Snapshotter(netlink, new SnapshotterOptions { FullAttributionInterval = TimeSpan.Zero });
        Record("PortDashboard snapshot + owners, full scan, warm", () => Describe(full, full.Take()));

        var steady = new Snapshotter(netlink, new SnapshotterOptions { FullAttributionInterval = TimeSpan.FromHours(1) });
        Record("PortDashboard snapshot + owners, steady, back-to-back", () => Describe(steady, steady.Take()));
        var previous = steady.Take();
        Record($"PortDashboard snapshot + owners, steady, {tickMs} ms tick", () =>
        {
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            var snapshot = steady.Take();
            allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
            var delta = Delta.Between(previous, snapshot);
            previous = snapshot;
            return $"{Describe(steady, snapshot)}; delta +{delta.Added.Length} -{delta.Removed.Length} ~{delta.Changed.Length}; {allocated / 1048576.0:F1} MB allocated";
        }, pauseMs: tickMs, maxRuns: Math.Min(runs, 11));

        // The diff the snapshot service runs after each snapshot (the key indexes of both built fresh, as in the service).
        var diffs = new List<double>();
        var diffNote = "";
        for (var i = 0; i < Math.Min(runs, 9); i++)
        {
            var a = Reindexed(steady.Take());
            var b = Reindexed(steady.Take());
            var watch = Stopwatch.StartNew();
            var delta = Delta.Between(a, b);
            diffs.Add(watch.Elapsed.TotalMilliseconds);
            diffNote = $"{delta.Count} changes";
        }

        diffs.Sort();
        results.Add(("Delta.Between two consecutive snapshots", diffs[diffs.Count / 2], diffs.Count, diffNote));
        Console.Error.WriteLine($"  {"Delta.Between two consecutive snapshots",-52} {diffs[diffs.Count / 2],10:F1} ms");

        Record("ss -tan", () => Command("ss", "-tan"));
        Record("ss -tanp", () => Command("ss", "-tanp"));
        Record("cat /proc/net/tcp /proc/net/tcp6", () => Command("cat", "/proc/net/tcp /proc/net/tcp6"));
        if (!skipSlow)
        {
            Record("lsof -i -P -n", () => Command("lsof", "-i -P -n"));
            Record("netstat -tanp", () => Command("netstat", "-tanp"));
        }

        double Of(string name) => results.First(r => r.Name == name).Milliseconds;

        Console.WriteLine("| command | median ms | runs | vs ss -tan | vs ss -tanp | vs lsof | note |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---|");
        var hasLsof = results.Exists(r => r.Name == "lsof -i -P -n");
        foreach (var (name, ms, count, note) in results)
        {
            var vsLsof = hasLsof ? $"{ms / Of("lsof -i -P -n"):F3}×" : "-";
            Console.WriteLine($"| {name} | {ms:F1} | {count} | {ms / Of("ss -tan"):F3}× | {ms / Of("ss -tanp"):F3}× | {vsLsof} | {note} |");
        }

        Console.WriteLine();
        Console.WriteLine($"sockets: {socketCount}; load average at the end: {Load()}");
        return 0;
    }

    /// <summary>One line per tick of a steady snapshotter (full scan every 10 s, as the app runs it).</summary>
    public static int Ticks(Arguments args)
    {
        var ticks = args.Int("ticks", 30);
        var tickMs = args.Int("tick-ms", 1000);
        var netlink = NetlinkReader.TryCreate(out var whyNot) ?? throw new InvalidOperationException($"netlink refused: {whyNot}");
        var snapshotter = new Snapshotter(netlink, new SnapshotterOptions());
        var previous = snapshotter.Take();
        var durations = new List<double>();
        for (var i = 0; i < ticks; i++)
        {
            Thread.Sleep(tickMs);
            var snapshot = snapshotter.Take();
            var delta = Delta.Between(previous, snapshot);
            previous = snapshot;
            durations.Add(snapshot.Duration.TotalMilliseconds);
            Console.WriteLine($"{snapshot.Duration.TotalMilliseconds,8:F1} ms  {snapshotter.LastAttributionScan}  delta +{delta.Added.Length} -{delta.Removed.Length} ~{delta.Changed.Length}");
            if (args.Flag("show-ownerless"))
            {
                foreach (var socket in delta.Added)
                {
                    if (socket.Inode != 0 && socket.Owners.IsEmpty)
                    {
                        Console.WriteLine($"           new socket without owner: {socket}");
                    }
                }
            }
        }

        durations.Sort();
        Console.WriteLine($"median {durations[durations.Count / 2]:F1} ms, max {durations[^1]:F1} ms; load {Load()}");
        return 0;
    }

    private static string Describe(Snapshotter snapshotter, Snapshot snapshot)
    {
        var attributed = 0;
        foreach (var socket in snapshot.Sockets)
        {
            attributed += socket.Owners.IsEmpty ? 0 : 1;
        }

        var scan = snapshotter.LastAttributionScan;
        var read = scan is { } s ? $"{(s.Full ? "full" : "incremental")}: {s.ProcessesRead} processes, {s.DescriptorsRead} descriptors read, {s.SocketsSought} sought" : "";
        return $"{snapshot.Count} sockets, {attributed} attributed; {read}";
    }

    /// <summary>A copy whose key index is not built yet, as a fresh snapshot's is not.</summary>
    private static Snapshot Reindexed(Snapshot s) =>
        new(s.Sockets, s.TakenAt, s.Duration, s.Reader, s.Attribution, s.PortPolicy, s.HostName, s.MalformedLines);

    private static string Command(string file, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var lines = 0;
        while (process.StandardOutput.ReadLine() is not null)
        {
            lines++;
        }

        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return $"{lines} lines";
    }

    public static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];
}
