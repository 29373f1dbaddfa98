using System.Diagnostics;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Reading.Netlink;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Bench;

/// <summary>
/// What asking sock_diag for INET_DIAG_INFO (struct tcp_info) costs a poll: the netlink read, and the steady snapshot
/// with owners, with the extension on and off, interleaved run by run so both see the same load (report the ratio).
/// Also how many sockets of a poll are new instances (counters moved) and how many are delta "changed" entries.
/// </summary>
internal static class TcpInfoCost
{
    public static int Run(Arguments arguments)
    {
        var runs = arguments.Int("runs", 21);
        using var on = new NetlinkReader();
        using var off = new NetlinkReader { ReadsTcpInfo = false };
        var count = on.Read().Sockets.Count;
        var withInfo = on.Read().Sockets.Count(s => s.Tcp is not null);
        Console.WriteLine($"tcp_info cost: {count} sockets ({withInfo} with tcp_info), {runs} interleaved runs each, load {File.ReadAllText("/proc/loadavg").Trim()}");

        var readOn = new List<double>();
        var readOff = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            readOn.Add(Time(() => on.Read()));
            readOff.Add(Time(() => off.Read()));
        }

        Print("netlink read, no owners", readOn, readOff);

        var options = new SnapshotterOptions { FullAttributionInterval = TimeSpan.FromHours(1) };
        var steadyOn = new Snapshotter(on, options);
        var steadyOff = new Snapshotter(off, options);
        steadyOn.Take();
        steadyOff.Take();
        var snapOn = new List<double>();
        var snapOff = new List<double>();
        int movedOn = 0, movedOff = 0, changedOn = 0, changedOff = 0;
        for (var i = 0; i < runs; i++)
        {
            Thread.Sleep(200); // a little time for counters to move between polls, as between real ticks
            Snapshot? a = null, b = null;
            var previousOn = steadyOn.Take();
            snapOn.Add(Time(() => a = steadyOn.Take()));
            var previousOff = steadyOff.Take();
            snapOff.Add(Time(() => b = steadyOff.Take()));
            movedOn += NewInstances(previousOn, a!);
            movedOff += NewInstances(previousOff, b!);
            changedOn += Delta.Between(previousOn, a!).Changed.Length;
            changedOff += Delta.Between(previousOff, b!).Changed.Length;
        }

        Print("snapshot + owners, steady, back-to-back", snapOn, snapOff);
        Console.WriteLine($"  per poll: sockets not reused (new instance) on {movedOn / (double)runs:F1}, off {movedOff / (double)runs:F1}; delta changed on {changedOn / (double)runs:F1}, off {changedOff / (double)runs:F1}");
        return 0;
    }

    private static int NewInstances(Snapshot previous, Snapshot current) =>
        current.Sockets.Count(s => previous.TryGet(s, out var before) && !ReferenceEquals(before, s));

    private static double Time(Action action)
    {
        var watch = Stopwatch.StartNew();
        action();
        return watch.Elapsed.TotalMilliseconds;
    }

    private static void Print(string what, List<double> on, List<double> off)
    {
        on.Sort();
        off.Sort();
        var (medianOn, medianOff) = (on[on.Count / 2], off[off.Count / 2]);
        Console.WriteLine($"  {what,-42} on {medianOn,8:F2} ms  off {medianOff,8:F2} ms  on/off {medianOn / medianOff:F2}");
    }
}
