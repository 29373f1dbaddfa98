using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Pressure;
using PortDashboard.Core.Sockets;
using PortDashboard.Insight;
using PortDashboard.Insight.Pressure;
using PortDashboard.Insight.ShortLived;
using PortDashboard.Tests.Insight.Support;
using PortDashboard.Tests.Support;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Tests.Insight;

public sealed class PressureMonitorTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly OsPortPolicy SmallRange = new(40000, 40099, 1024); // 100 ports
    private static readonly NetAddress Local = NetAddress.FromIPv4(0x7F000001);
    private static readonly Endpoint Postgres = new(NetAddress.FromIPv4(0x0A000005), 5432);

    private readonly InsightTestHost _host = new();
    private readonly ListLogger<PressureMonitor> _log = new();

    public void Dispose() => _host.Dispose();

    private static Socket Outgoing(int port, SocketState state = SocketState.Established) =>
        new(TransportProtocol.Tcp, IpVersion.IPv4, new Endpoint(Local, port), Postgres, state, state == SocketState.TimeWait ? 0 : port, 0);

    private static Snapshot Snap(DateTimeOffset at, IEnumerable<Socket> sockets) =>
        new([.. sockets], at, TimeSpan.Zero, "test", new AttributionStatus(AttributionCompleteness.Complete, 0, 0), SmallRange, "host");

    private PressureMonitor Monitor(PressureOptions? options = null) =>
        new(options ?? new PressureOptions(), _host.Metrics, _log);

    /// <summary>Applies one snapshot holding <paramref name="ports"/> connections toward Postgres, as a delta from the previous.</summary>
    private static (Snapshot Snapshot, Delta Delta) Step(Snapshot previous, DateTimeOffset at, int ports)
    {
        var next = Snap(at, Enumerable.Range(40000, ports).Select(p => Outgoing(p)));
        return (next, Delta.Between(previous, next));
    }

    [Fact]
    public void Each_crossing_is_logged_once_up_and_down_never_per_poll()
    {
        var monitor = Monitor();
        using var crossings = new MetricCollector<long>(_host.MeterFactory, InsightMetrics.MeterName, "portdashboard.ephemeral.threshold.crossings");
        var previous = Snap(T0, []);
        var plan = new[] { 50, 75, 76, 74, 80, 95, 96, 94, 60, 61 }; // normal, warning ×4, critical ×3, normal ×2
        var views = new List<PressureView>();
        for (var i = 0; i < plan.Length; i++)
        {
            var (snapshot, delta) = Step(previous, T0.AddSeconds(i + 1), plan[i]);
            views.Add(monitor.Apply(snapshot, [delta], []));
            previous = snapshot;
        }

        Assert.Equal(
            [PressureLevel.Normal, PressureLevel.Warning, PressureLevel.Warning, PressureLevel.Warning, PressureLevel.Warning,
             PressureLevel.Critical, PressureLevel.Critical, PressureLevel.Critical, PressureLevel.Normal, PressureLevel.Normal],
            views.Select(v => v.Report.Level));

        // Per scope (the TCP range, the Postgres destination): up to warning, up to critical, down to normal.
        var destination = _log.Entries.Where(e => e.Message.Contains("10.0.0.5:5432", StringComparison.Ordinal)).ToList();
        Assert.Equal([LogLevel.Warning, LogLevel.Error, LogLevel.Information], destination.Select(e => e.Level));
        Assert.Contains("75 of 100 ports in use", destination[0].Message, StringComparison.Ordinal);
        Assert.Contains("warning at 70 %", destination[0].Message, StringComparison.Ordinal);
        var tcp = _log.Entries.Where(e => e.Message.Contains("protocol TCP", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, tcp.Count);

        var measurements = crossings.GetMeasurementSnapshot();
        Assert.Equal(4, measurements.Count); // the upward crossings only: warning and critical, for the protocol and the destination
        Assert.Equal(2, measurements.Count(m => m.Tags["level"] as string == "critical"));
        Assert.Equal(2, measurements.Count(m => m.Tags["scope"] as string == "destination"));
    }

    [Fact]
    public void Thresholds_come_from_the_options()
    {
        var monitor = Monitor(new PressureOptions { Warning = 30, Critical = 40 });

        var view = monitor.Apply(Step(Snap(T0, []), T0.AddSeconds(1), 35).Snapshot, [], []);

        Assert.Equal(PressureLevel.Warning, view.Report.Destinations[0].Level);
        Assert.Equal(0.3, view.Thresholds.Warning, precision: 6);
    }

    [Fact]
    public void Openings_and_short_lived_sockets_make_the_rate_and_fill_the_heatmap()
    {
        var monitor = Monitor(new PressureOptions { HeatmapBuckets = 10, HeatmapSlot = TimeSpan.FromSeconds(10), HeatmapWindow = TimeSpan.FromMinutes(1) });
        var (snapshot, delta) = Step(Snap(T0, []), T0.AddSeconds(1), 30); // ports 40000-40029: slices 0-2
        var shortLived = Enumerable.Range(40090, 10) // slice 9
            .Select(p => new ClosedSocket(Outgoing(p), T0.AddSeconds(1), ShortLived: true, null, OwnerSource.None))
            .ToList();

        var view = monitor.Apply(snapshot, [delta], shortLived);

        var top = Assert.Single(view.Report.Destinations);
        Assert.Equal(40.0 / 60, top.OpeningRatePerSecond, precision: 6); // 40 openings over the 60 s window
        Assert.Equal(6, view.Heatmap.Columns.Length);
        Assert.Equal([10, 10, 10, 0, 0, 0, 0, 0, 0, 10], view.Heatmap.Columns[^1].Counts);
        Assert.Equal(40, view.Heatmap.Total);
        Assert.Equal(40090, view.Heatmap.FirstPort(9));
        Assert.Equal(40099, view.Heatmap.LastPort(9));
    }

    [Fact]
    public void A_late_count_goes_to_its_own_slot_even_when_that_slot_counted_nothing_yet()
    {
        var heatmap = new AllocationHeatmap(4, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)); // 3 columns
        heatmap.Record(40000, SmallRange, T0.AddSeconds(20)); // a poll of a later slot came first
        heatmap.Record(40001, SmallRange, T0); // a socket seen closing at T0, handled after that poll
        heatmap.Record(40002, SmallRange, T0.AddSeconds(10));
        heatmap.Record(40003, SmallRange, T0.AddSeconds(-30)); // older than the window: left out

        Assert.Equal([1, 1, 1], heatmap.View(T0.AddSeconds(20), SmallRange).Columns.Select(c => c.Counts.Sum()));
        Assert.Equal(3, heatmap.View(T0.AddSeconds(20), SmallRange).Total);
    }

    [Fact]
    public void The_heatmap_keeps_its_window_and_starts_over_when_the_range_moves()
    {
        var heatmap = new AllocationHeatmap(4, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)); // 3 columns
        heatmap.Record(40000, SmallRange, T0);
        heatmap.Record(40099, SmallRange, T0.AddSeconds(10));
        heatmap.Record(40050, SmallRange, T0.AddSeconds(20));
        heatmap.Record(39999, SmallRange, T0.AddSeconds(20)); // outside the range: ignored

        Assert.Equal([1, 1, 1], heatmap.View(T0.AddSeconds(20), SmallRange).Columns.Select(c => c.Counts.Sum()));
        Assert.Equal([1, 1, 0], heatmap.View(T0.AddSeconds(30), SmallRange).Columns.Select(c => c.Counts.Sum())); // the first slot left the window
        Assert.Equal([0, 0, 0, 1], heatmap.View(T0.AddSeconds(30), SmallRange).Columns[0].Counts);

        var moved = new OsPortPolicy(50000, 50099, 1024);
        heatmap.Record(50000, moved, T0.AddSeconds(30));
        Assert.Equal(1, heatmap.View(T0.AddSeconds(30), moved).Total);
    }

    [Fact]
    public void A_pressure_report_lists_the_top_destinations_only_but_counts_them_all()
    {
        var monitor = Monitor(new PressureOptions { TopDestinations = 2 });
        var sockets = Enumerable.Range(0, 5).Select(i =>
            new Socket(TransportProtocol.Tcp, IpVersion.IPv4, new Endpoint(Local, 40000 + i), new Endpoint(Postgres.Address, 1000 + i), SocketState.Established, i + 1, 0));

        var view = monitor.Apply(Snap(T0, sockets), [], []);

        Assert.Equal(2, view.Report.Destinations.Length);
        Assert.Equal(5, view.DestinationCount);
        Assert.Equal(5, view.Report.TcpPortsInUse);
        Assert.Equal(0, view.Report.UdpPortsInUse);
    }
}
