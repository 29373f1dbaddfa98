using System.Diagnostics;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Reading.Namespaces;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Bench;

/// <summary>
/// What reading the other network namespaces costs a poll (bench/netns.sh makes them: `ip netns add`, a load generator
/// inside each). The two ways of reading a namespace over the same namespaces, interleaved run by run: sock_diag from a
/// socket made after setns (with and without tcp_info) and /proc/&lt;pid&gt;/net/tcp* of a process inside; the listing
/// of namespaces alone; and the steady snapshot with owners, host only vs host + the namespaces. Report the ratios.
/// </summary>
internal static class NamespaceCost
{
    public static int Run(Arguments arguments)
    {
        var runs = arguments.Int("runs", 21);
        var prefix = arguments.String("prefix") ?? "pd-bench-";
        var namespaces = new NetworkNamespaces("/proc") { Include = n => n.RunName?.StartsWith(prefix, StringComparison.Ordinal) == true };
        var found = namespaces.List(namespaces.HostInode());
        if (found.Count == 0)
        {
            Console.Error.WriteLine($"no namespace named {prefix}* under /run/netns: run bench/netns.sh");
            return 1;
        }

        using var netlink = new NamespacedReader(new NoTable(), namespaces, NamespaceReaderKind.Netlink);
        using var netlinkNoInfo = new NamespacedReader(new NoTable(), namespaces, NamespaceReaderKind.Netlink, readsTcpInfo: false);
        using var procNet = new NamespacedReader(new NoTable(), namespaces, NamespaceReaderKind.ProcNet);
        var sockets = netlink.Read().Sockets.Count;
        var byProc = procNet.Read().Sockets.Count;
        netlinkNoInfo.Read();
        var everyNamespace = new NetworkNamespaces("/proc").List(namespaces.HostInode()).Count;
        Console.WriteLine(
            $"namespace cost: {found.Count} namespaces ({string.Join(", ", found.Select(n => n.RunName))}) holding {sockets} sockets "
            + $"({byProc} by /proc/<pid>/net); {everyNamespace} namespaces on the machine; {runs} interleaved runs each; load {File.ReadAllText("/proc/loadavg").Trim()}");
        foreach (var read in netlink.LastNamespaces.Concat(procNet.LastNamespaces).Where(r => r.Error is not null))
        {
            Console.WriteLine($"  skipped {read.Namespace.Name}: {read.Error}");
        }

        var (a, b, c, d) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
        var host = new List<double>();
        using var hostReader = new Core.Reading.Netlink.NetlinkReader();
        var hostSockets = hostReader.Read().Sockets.Count;
        for (var i = 0; i < runs; i++)
        {
            host.Add(Time(() => hostReader.Read()));
            a.Add(Time(() => netlink.Read()));
            b.Add(Time(() => netlinkNoInfo.Read()));
            c.Add(Time(() => procNet.Read()));
            d.Add(Time(() => namespaces.List(namespaces.HostInode())));
        }

        Console.WriteLine($"  {"namespaces only, sock_diag after setns, tcp_info",-52} {Median(a),8:F2} ms");
        Console.WriteLine($"  {"namespaces only, sock_diag after setns, no tcp_info",-52} {Median(b),8:F2} ms");
        Console.WriteLine($"  {"namespaces only, /proc/<pid>/net/tcp* (no tcp_info)",-52} {Median(c),8:F2} ms   proc-net/sock_diag {Median(c) / Median(a):F2}");
        Console.WriteLine($"  {"listing the namespaces alone (/proc/*/ns/net, /run/netns)",-52} {Median(d),8:F2} ms");
        Console.WriteLine($"  {"the host's sock_diag read alone, tcp_info (" + hostSockets + " sockets)",-52} {Median(host),8:F2} ms   "
            + $"per socket: namespaces {Median(a) * 1000 / Math.Max(1, sockets):F2} µs, host {Median(host) * 1000 / Math.Max(1, hostSockets):F2} µs");

        // The poll as the service takes it: steady snapshots with owners (incremental attribution), host's reader alone
        // vs the host's and the namespaces' (auto: sock_diag with tcp_info), interleaved.
        var options = new SnapshotterOptions { FullAttributionInterval = TimeSpan.FromHours(1) };
        var off = new Snapshotter(SocketTableReaders.CreateDefault("/proc"), options);
        using var withNamespaces = new NamespacedReader(SocketTableReaders.CreateDefault("/proc"), namespaces);
        var on = new Snapshotter(withNamespaces, options);
        var countOff = off.Take().Count;
        var countOn = on.Take().Count;
        var (snapOn, snapOff) = (new List<double>(), new List<double>());
        for (var i = 0; i < runs; i++)
        {
            Thread.Sleep(200);
            off.Take();
            snapOff.Add(Time(() => off.Take()));
            on.Take();
            snapOn.Add(Time(() => on.Take()));
        }

        Console.WriteLine(
            $"  {"snapshot + owners, steady: host + namespaces vs host",-52} {Median(snapOn),8:F2} ms vs {Median(snapOff),8:F2} ms  ratio {Median(snapOn) / Median(snapOff):F2} "
            + $"({countOn} vs {countOff} sockets, reader {off.Reader.Name})");
        return 0;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    private static double Time(Action action)
    {
        var watch = Stopwatch.StartNew();
        action();
        return watch.Elapsed.TotalMilliseconds;
    }

    /// <summary>A host table with nothing in it, so a read times the namespaces alone.</summary>
    private sealed class NoTable : ISocketTableReader
    {
        public string Name => "none";

        public bool SupportsAttribution => true;

        public SocketTableRead Read(CancellationToken cancellationToken = default) => new([], new MalformedInput());
    }
}
