using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PortDashboard.Core.Filtering;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;
using PortDashboard.Model;
using PortDashboard.Monitoring;
using PortDashboard.Naming;

namespace PortDashboard.Bench;

/// <summary>
/// What names and grouping cost the Connections page (never the poll: nothing on the poll path asks for names).
/// A synthetic table of <c>--sockets</c> connections to <c>--addresses</c> distinct remote addresses, every address
/// already named in the cache (an in-memory resolver: no DNS); then, interleaved run by run: the page's filtered view
/// for a free text with names (the cache asked for every row) against without, and grouping the whole table.
/// </summary>
internal static class NamesCost
{
    public static int Run(Arguments arguments)
    {
        var runs = arguments.Int("runs", 21);
        var socketCount = arguments.Int("sockets", 10_000);
        var addressCount = arguments.Int("addresses", 2_000);
        var now = DateTimeOffset.UtcNow;
        var owners = Enumerable.Range(0, 50).Select(i => new ProcessInfo(1000 + i, (ulong)i, $"worker-{i}", 0, "root")).ToArray();
        var sockets = new List<Socket>(socketCount);
        for (var i = 0; i < socketCount; i++)
        {
            var remote = NetAddress.FromIPv4(0x0A000000u + (uint)(i % addressCount) + 1); // 10.0.0.1...
            var state = (i % 10) switch { 0 => SocketState.TimeWait, 1 => SocketState.Listen, _ => SocketState.Established };
            sockets.Add(new Socket(TransportProtocol.Tcp, IpVersion.IPv4, new Endpoint(NetAddress.FromIPv4(0x7F000001), 10_000 + (i % 5000)),
                state == SocketState.Listen ? new Endpoint(NetAddress.AnyV4, 0) : new Endpoint(remote, 40_000 + (i / addressCount)),
                state, 100_000 + i, 0, owners: state == SocketState.TimeWait ? [] : [owners[i % owners.Length]]));
        }

        var table = new SocketTable();
        table.Resync(new Snapshot([.. sockets], now, TimeSpan.Zero, "bench", new AttributionStatus(AttributionCompleteness.Complete, 50, 0), OsPortPolicy.LinuxDefault, "bench"), 1, now);

        var options = new ReverseDnsOptions { MaxConcurrent = 4, QueueCapacity = addressCount + 16, CacheCapacity = addressCount * 2 };
        var names = new AddressNames(new InstantNames(), TimeProvider.System, Options.Create(options), NullLogger<AddressNames>.Instance);
        WarmUp(names, sockets);

        // "host-9999" names no address: every row is tested against the text (the worst case for the filter).
        var filter = Filter.Parse("q=host-9999");
        var services = ServiceNameRegistry.Empty;
        Console.WriteLine($"names cost: {socketCount} sockets, {addressCount} named remote addresses, {runs} interleaved runs each, load {File.ReadAllText("/proc/loadavg").Trim()}");
        var withNames = new List<double>();
        var without = new List<double>();
        var version = 0;
        for (var i = 0; i < runs; i++)
        {
            // A new version each run defeats the view's cache, as a name arriving does.
            withNames.Add(Time(() => table.View(filter, SocketSort.Default, services, names.NameOf, ++version)));
            without.Add(Time(() => table.View(filter, SocketSort.Default, services, null, ++version)));
            table.Resync(table.Latest!, i + 2, now); // an unchanged snapshot: the table's version moves, so neither view is cached
        }

        Print("view, q over every row, names vs numbers", withNames, without);

        var all = table.View(Filter.Empty, SocketSort.Default, services);
        var grouped = new List<double>();
        var plainSort = new List<double>();
        foreach (var grouping in SocketGrouping.All)
        {
            grouped.Clear();
            plainSort.Clear();
            for (var i = 0; i < runs; i++)
            {
                grouped.Add(Time(() => grouping.Group(all)));
                plainSort.Add(Time(() => table.View(Filter.Empty, SocketSort.Default, services, null, 0)));
                table.Resync(table.Latest!, 1000 + i, now);
            }

            Print($"group by {grouping.QueryValue} vs the ungrouped view", grouped, plainSort);
        }

        names.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return 0;
    }

    /// <summary>Asks for every address once, then waits until each lookup ended (a deadline, not a fixed sleep).</summary>
    private static void WarmUp(AddressNames names, List<Socket> sockets)
    {
        var addresses = sockets.Where(s => !s.Remote.IsUnspecified).Select(s => s.Remote.Address).Distinct().ToList();
        addresses.ForEach(a => names.NameOf(a));
        var deadline = Stopwatch.StartNew();
        while (names.Version < addresses.Count)
        {
            if (deadline.Elapsed > TimeSpan.FromMinutes(5))
            {
                throw new TimeoutException($"the in-memory resolver named {names.Version} of {addresses.Count} addresses in 5 min");
            }

            Thread.Sleep(20);
        }

        if (addresses.Any(a => names.NameOf(a) is null))
        {
            throw new InvalidOperationException("an address has no name after the warm-up: the view would not test names");
        }
    }

    private static double Time(Action action)
    {
        var watch = Stopwatch.StartNew();
        action();
        return watch.Elapsed.TotalMilliseconds;
    }

    private static void Print(string what, List<double> a, List<double> b)
    {
        a.Sort();
        b.Sort();
        var (medianA, medianB) = (a[a.Count / 2], b[b.Count / 2]);
        Console.WriteLine($"  {what,-44} {medianA,8:F2} ms  vs {medianB,8:F2} ms  ratio {medianA / medianB:F2}");
    }

    /// <summary>Answers at once, from the address itself: the bench measures the page, not a resolver.</summary>
    private sealed class InstantNames : IReverseDns
    {
        public Task<string?> ResolveAsync(IPAddress address, CancellationToken cancellationToken) =>
            Task.FromResult<string?>($"host-{address.GetAddressBytes()[2]}-{address.GetAddressBytes()[3]}.bench.test");
    }
}
