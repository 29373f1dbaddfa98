using System.Diagnostics;
using System.Globalization;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Reading.Netlink;

// Times PortDashboard's snapshot against ss, lsof, netstat and cat /proc/net/tcp* on the SAME socket table,
// in the same run, and prints each ratio. Run it through bench/run.sh, which opens the table with the load generator.
//
//   PortDashboard.Bench [--runs 15] [--max-seconds 20] [--skip-slow]

var runs = 15;
var maxSeconds = 20.0;
var skipSlow = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--runs":
            runs = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--max-seconds":
            maxSeconds = double.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--skip-slow":
            skipSlow = true;
            break;
        default:
            Console.Error.WriteLine($"unknown argument {args[i]}");
            return 2;
    }
}

var results = new List<(string Name, double Milliseconds, int Runs, string Note)>();

void Record(string name, Func<string> action)
{
    action(); // warm-up (JIT, page cache, dentries): steady state unless the action itself is cold
    var samples = new List<double>();
    var budget = Stopwatch.StartNew();
    string note = "";
    while (samples.Count < runs && (samples.Count < 3 || budget.Elapsed.TotalSeconds < maxSeconds))
    {
        var watch = Stopwatch.StartNew();
        note = action();
        samples.Add(watch.Elapsed.TotalMilliseconds);
    }

    samples.Sort();
    var median = samples[samples.Count / 2];
    results.Add((name, median, samples.Count, note));
    Console.Error.WriteLine($"  {name,-44} {median,10:F1} ms  ({samples.Count} runs) {note}");
}

string Command(string file, string arguments)
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

var netlink = NetlinkReader.TryCreate(out var whyNot) ?? throw new InvalidOperationException($"netlink refused: {whyNot}");
var procNet = new ProcNetReader("/proc");
var socketCount = netlink.Read().Sockets.Count;
Console.Error.WriteLine($"Socket table: {socketCount} sockets (TCP+UDP, IPv4+IPv6). Median of up to {runs} runs each.");

Record("PortDashboard netlink, no owners", () => $"{netlink.Read().Sockets.Count} sockets");
Record("PortDashboard /proc/net, no owners", () => $"{procNet.Read().Sockets.Count} sockets");
Record("PortDashboard snapshot + owners, cold", () =>
{
    var snapshotter = new Snapshotter(NetlinkReader.TryCreate(out _)!, new SnapshotterOptions());
    var snapshot = snapshotter.Take();
    return $"{snapshot.Count} sockets, {snapshot.Sockets.Count(s => !s.Owners.IsEmpty)} attributed";
});
var steady = new Snapshotter(netlink, new SnapshotterOptions());
Record("PortDashboard snapshot + owners, steady", () =>
{
    var snapshot = steady.Take();
    return $"{snapshot.Count} sockets, {snapshot.Sockets.Count(s => !s.Owners.IsEmpty)} attributed";
});
Record("ss -tan", () => Command("ss", "-tan"));
Record("ss -tanp", () => Command("ss", "-tanp"));
Record("cat /proc/net/tcp /proc/net/tcp6", () => Command("cat", "/proc/net/tcp /proc/net/tcp6"));
if (!skipSlow)
{
    Record("lsof -i -P -n", () => Command("lsof", "-i -P -n"));
    Record("netstat -tanp", () => Command("netstat", "-tanp"));
}

double Of(string name) => results.First(r => r.Name == name).Milliseconds;

Console.WriteLine($"| command | median ms | runs | vs ss -tan | vs ss -tanp | vs lsof |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|");
var hasLsof = results.Exists(r => r.Name == "lsof -i -P -n");
foreach (var (name, ms, count, _) in results)
{
    var vsLsof = hasLsof ? $"{ms / Of("lsof -i -P -n"):F3}×" : "-";
    Console.WriteLine($"| {name} | {ms:F1} | {count} | {ms / Of("ss -tan"):F3}× | {ms / Of("ss -tanp"):F3}× | {vsLsof} |");
}

Console.WriteLine();
Console.WriteLine($"sockets: {socketCount}");
return 0;
