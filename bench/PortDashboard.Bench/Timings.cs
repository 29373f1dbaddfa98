using System.Diagnostics;
using System.Runtime.InteropServices;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Reading.Netlink;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Bench;

/// <summary>
/// Times PortDashboard's snapshot against ss, lsof, netstat and cat /proc/net/tcp* on the SAME socket table, in the
/// same run, and prints each ratio: median wall time of many runs, and median CPU time (this thread's for
/// PortDashboard, the child's for a command), which other work on a busy machine disturbs far less.
/// </summary>
internal static partial class Timings
{
    public static int Run(Arguments args)
    {
        var runs = args.Int("runs", 15);
        var maxSeconds = args.Double("max-seconds", 20);
        var tickMs = args.Int("tick-ms", 1000);

        // The rows on a tick are cheap even at 100k (a snapshot or ss -tan a second): they take their own count, since
        // --runs is kept low there for lsof, netstat and ss -tanp, which take seconds each.
        var tickRuns = args.Int("tick-runs", 11);
        var skipSlow = args.Flag("skip-slow");
        var results = new List<(string Name, double Milliseconds, double CpuMilliseconds, int Runs, string Note)>();

        void Record(string name, Func<string> action, int pauseMs = 0, int? maxRuns = null) =>
            Measure(name, () =>
            {
                var note = action();
                return () => note;
            }, pauseMs, maxRuns);

        // Times the action alone; what it returns describes the run after the clock stops (describing a 100k-socket
        // snapshot walks every socket: bench work, not the snapshot's).
        void Measure(string name, Func<Func<string>> timed, int pauseMs = 0, int? maxRuns = null)
        {
            timed(); // warm-up (JIT, page cache, dentries): steady state unless the action itself is cold
            var samples = new List<double>();
            var cpuSamples = new List<double>();
            var budget = Stopwatch.StartNew();
            var note = "";
            var wanted = maxRuns ?? runs;
            while (samples.Count < wanted && (samples.Count < 3 || budget.Elapsed.TotalSeconds < maxSeconds))
            {
                if (pauseMs > 0)
                {
                    Thread.Sleep(pauseMs);
                }

                var cpu = CpuMilliseconds();
                var watch = Stopwatch.StartNew();
                var describe = timed();
                samples.Add(watch.Elapsed.TotalMilliseconds);
                cpuSamples.Add(CpuMilliseconds() - cpu);
                note = describe();
            }

            samples.Sort();
            cpuSamples.Sort();
            var median = samples[samples.Count / 2];
            var cpuMedian = cpuSamples[cpuSamples.Count / 2];
            results.Add((name, median, cpuMedian, samples.Count, note));
            Console.Error.WriteLine($"  {name,-52} {median,10:F1} ms {cpuMedian,10:F1} ms CPU ({samples.Count} runs) {note}");
        }

        var netlink = NetlinkReader.TryCreate(out var whyNot) ?? throw new InvalidOperationException($"netlink refused: {whyNot}");
        var procNet = new ProcNetReader("/proc");
        var socketCount = netlink.Read().Sockets.Count;
        Console.Error.WriteLine($"Socket table: {socketCount} sockets (TCP+UDP, IPv4+IPv6). Median of up to {runs} runs each; load {Load()}.");

        Record("PortDashboard netlink, no owners", () => $"{netlink.Read().Sockets.Count} sockets");
        using var perFamily = new NetlinkReader { TcpInOneWalk = false };
        Record("PortDashboard netlink, no owners, TCP one dump per family", () => $"{perFamily.Read().Sockets.Count} sockets");
        Record("PortDashboard /proc/net, no owners", () => $"{procNet.Read().Sockets.Count} sockets");
        Measure("PortDashboard snapshot + owners, cold", () =>
        {
            // A new snapshotter: nothing known about any process (names, users, descriptors).
            var snapshotter = new Snapshotter(netlink, new SnapshotterOptions());
            var snapshot = snapshotter.Take();
            return () => Describe(snapshotter, snapshot);
        });

        var full = new Snapshotter(netlink, new SnapshotterOptions { FullAttributionInterval = TimeSpan.Zero });
        Measure("PortDashboard snapshot + owners, full scan, warm", () =>
        {
            var snapshot = full.Take();
            return () => Describe(full, snapshot);
        });

        var steady = new Snapshotter(netlink, new SnapshotterOptions { FullAttributionInterval = TimeSpan.FromHours(1) });
        Measure("PortDashboard snapshot + owners, steady, back-to-back", () =>
        {
            var snapshot = steady.Take();
            return () => Describe(steady, snapshot);
        });
        var previous = steady.Take();
        Measure($"PortDashboard snapshot + owners, steady, {tickMs} ms tick", () =>
        {
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            var snapshot = steady.Take();
            allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
            return () =>
            {
                var delta = Delta.Between(previous, snapshot); // timed on its own below
                previous = snapshot;
                return $"{Describe(steady, snapshot)}; delta +{delta.Added.Length} -{delta.Removed.Length} ~{delta.Changed.Length}; {allocated / 1048576.0:F1} MB allocated";
            };
        }, pauseMs: tickMs, maxRuns: tickRuns);

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
        results.Add(("Delta.Between two consecutive snapshots", diffs[diffs.Count / 2], double.NaN, diffs.Count, diffNote));
        Console.Error.WriteLine($"  {"Delta.Between two consecutive snapshots",-52} {diffs[diffs.Count / 2],10:F1} ms");

        Record("ss -tan", () => Command("ss", "-tan"));
        Record($"ss -tan, {tickMs} ms tick", () => Command("ss", "-tan"), pauseMs: tickMs, maxRuns: tickRuns);
        Record("ss -tanp", () => Command("ss", "-tanp"));
        Record("cat /proc/net/tcp /proc/net/tcp6", () => Command("cat", "/proc/net/tcp /proc/net/tcp6"));
        if (!skipSlow)
        {
            Record("lsof -i -P -n", () => Command("lsof", "-i -P -n"));
            Record("netstat -tanp", () => Command("netstat", "-tanp"));
        }

        (double Wall, double Cpu) Of(string name) => results.First(r => r.Name == name) is var r ? (r.Milliseconds, r.CpuMilliseconds) : default;

        // Wall-time ratios first, then the same ratios in CPU time.
        string Ratio(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? "-" : $"{a / b:F3}×";
        var hasLsof = results.Exists(r => r.Name == "lsof -i -P -n");
        Console.WriteLine("| command | median ms | median CPU ms | runs | vs ss -tan | vs ss -tanp | vs lsof | CPU vs ss -tan | CPU vs ss -tanp | CPU vs lsof | note |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var (name, ms, cpu, count, note) in results)
        {
            var (tan, tanp, lsof) = (Of("ss -tan"), Of("ss -tanp"), hasLsof ? Of("lsof -i -P -n") : (double.NaN, double.NaN));
            Console.WriteLine(
                $"| {name} | {ms:F1} | {(double.IsNaN(cpu) ? "-" : cpu.ToString("F1", System.Globalization.CultureInfo.InvariantCulture))} | {count} " +
                $"| {Ratio(ms, tan.Wall)} | {Ratio(ms, tanp.Wall)} | {Ratio(ms, lsof.Item1)} | {Ratio(cpu, tan.Cpu)} | {Ratio(cpu, tanp.Cpu)} | {Ratio(cpu, lsof.Item2)} | {note} |");
        }

        var steadyTick = Of($"PortDashboard snapshot + owners, steady, {tickMs} ms tick");
        var ssTick = Of($"ss -tan, {tickMs} ms tick");
        Console.WriteLine();
        Console.WriteLine($"steady {tickMs} ms tick vs ss -tan at the same tick: {Ratio(steadyTick.Wall, ssTick.Wall)} wall, {Ratio(steadyTick.Cpu, ssTick.Cpu)} CPU");
        Console.WriteLine($"sockets: {socketCount}; load average at the end: {Load()}");
        return 0;
    }

    /// <summary>CPU time of this thread plus that of the children waited for so far (utime + stime), in milliseconds.</summary>
    private static double CpuMilliseconds()
    {
        const int Thread = 1, Children = -1;
        Span<long> usage = stackalloc long[18];
        double Total(Span<long> u) => (u[0] * 1000.0) + (u[1] / 1000.0) + (u[2] * 1000.0) + (u[3] / 1000.0);
        GetResourceUsage(Thread, ref MemoryMarshal.GetReference(usage));
        var thread = Total(usage);
        GetResourceUsage(Children, ref MemoryMarshal.GetReference(usage));
        return thread + Total(usage);
    }

    /// <summary><c>getrusage</c>: struct rusage starts with ru_utime and ru_stime (timeval: seconds, microseconds), 18 longs in all.</summary>
    [LibraryImport("libc", EntryPoint = "getrusage")]
    private static partial int GetResourceUsage(int who, ref long usage);

    /// <summary>One line per tick of a steady snapshotter (full scan every 10 s, as the app runs it).</summary>
    public static int Ticks(Arguments args)
    {
        var ticks = args.Int("ticks", 30);
        var tickMs = args.Int("tick-ms", 1000);
        var netlink = NetlinkReader.TryCreate(out var whyNot) ?? throw new InvalidOperationException($"netlink refused: {whyNot}");
        // As the app runs it: the full scan every 10 s runs after the snapshot is published, off the poll's path.
        var snapshotter = new Snapshotter(netlink, new SnapshotterOptions { FullAttributionAfterPublish = true });
        var previous = snapshotter.Take();
        var previousSnapshot = previous;
        var durations = new List<double>();
        for (var i = 0; i < ticks; i++)
        {
            Thread.Sleep(tickMs);
            var snapshot = snapshotter.Take();
            var delta = Delta.Between(previous, snapshot);
            previous = snapshot;
            durations.Add(snapshot.Duration.TotalMilliseconds);
            // Sockets with a file but no owner, and of those the ones that were in the previous snapshot too (a new socket
            // may get its owner a poll late; an older one without owner is held by no readable process, or missed).
            var ownerless = 0;
            var ownerlessOlder = 0;
            foreach (var socket in snapshot.Sockets)
            {
                if (socket.Inode != 0 && socket.Owners.IsEmpty)
                {
                    ownerless++;
                    ownerlessOlder += previousSnapshot.TryGet(socket, out _) ? 1 : 0;
                }
            }

            previousSnapshot = snapshot;
            Console.WriteLine($"{snapshot.Duration.TotalMilliseconds,8:F1} ms  {snapshotter.LastAttributionScan}  delta +{delta.Added.Length} -{delta.Removed.Length} ~{delta.Changed.Length}; without owner {ownerless} ({ownerlessOlder} seen before)");
            var rescan = Stopwatch.StartNew();
            if (snapshotter.RunDueFullAttribution())
            {
                Console.WriteLine($"{rescan.Elapsed.TotalMilliseconds,8:F1} ms  full attribution scan after the snapshot: {snapshotter.LastAttributionScan}");
            }
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

    /// <summary>Sockets in the table now (TCP and UDP, IPv4 and IPv6), as the netlink reader counts them.</summary>
    public static int SocketCount()
    {
        using var netlink = NetlinkReader.TryCreate(out _);
        return netlink?.Read().Sockets.Count ?? -1;
    }

    public static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];
}
