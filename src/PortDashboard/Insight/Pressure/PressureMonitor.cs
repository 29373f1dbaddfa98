using System.Globalization;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Pressure;
using PortDashboard.Core.Sockets;
using PortDashboard.Insight.ShortLived;

namespace PortDashboard.Insight.Pressure;

/// <summary>
/// Ephemeral port pressure from the snapshot feed: opening rates (deltas plus the sockets seen only closing), the
/// per-protocol and per-destination report, the allocation heatmap, and the threshold crossings, logged once per
/// crossing (up or down), never per poll. Not thread-safe: the insight loop drives it and publishes its views.
/// </summary>
public sealed class PressureMonitor
{
    private readonly PressureOptions _options;
    private readonly PressureThresholds _thresholds;
    private readonly InsightMetrics _metrics;
    private readonly ILogger _logger;
    private readonly OpeningRateTracker _rates = new(EphemeralPressure.TimeWaitLength);
    private readonly Dictionary<string, PressureLevel> _levels = new(StringComparer.Ordinal);
    private PressureView? _last;

    /// <summary>The report walks the whole table: at most once this often, however fast the polls (counting goes on meanwhile).</summary>
    public static readonly TimeSpan ReportInterval = TimeSpan.FromSeconds(1);

    public PressureMonitor(PressureOptions options, InsightMetrics metrics, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _thresholds = options.Thresholds;
        _metrics = metrics;
        _logger = logger;
        Heatmap = new AllocationHeatmap(options.HeatmapBuckets, options.HeatmapSlot, options.HeatmapWindow);
    }

    public AllocationHeatmap Heatmap { get; }

    /// <summary>
    /// Counts the openings (new outgoing sockets in <paramref name="deltas"/>' Added, sockets seen only closing in
    /// <paramref name="shortLived"/>), then reports on <paramref name="snapshot"/>.
    /// </summary>
    public PressureView Apply(Snapshot snapshot, IReadOnlyList<Delta> deltas, IReadOnlyList<ClosedSocket> shortLived)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(deltas);
        ArgumentNullException.ThrowIfNull(shortLived);
        var policy = snapshot.PortPolicy;
        foreach (var delta in deltas)
        {
            _rates.Record(delta, policy);
            foreach (var socket in delta.Added)
            {
                if (OpeningRateTracker.DestinationOf(socket, policy) is not null)
                {
                    Heatmap.Record(socket.Local.Port, policy, delta.TakenAt);
                }
            }
        }

        foreach (var closed in shortLived)
        {
            _rates.RecordShortLived(closed.Socket, policy, closed.SeenAt);
            if (OpeningRateTracker.DestinationOf(closed.Socket, policy) is not null)
            {
                Heatmap.Record(closed.Socket.Local.Port, policy, closed.SeenAt);
            }
        }

        // A wall clock set back gives a negative interval: report then, rather than wait until the clock catches up.
        if (_last is { } last && snapshot.TakenAt - last.At is var since && since >= TimeSpan.Zero && since < ReportInterval && Equals(last.Policy, policy))
        {
            return last;
        }

        var report = EphemeralPressure.Compute(snapshot, _rates.RatesAt(snapshot.TakenAt), _thresholds, top: int.MaxValue);
        var tcpLevel = _thresholds.LevelOf(report.TcpUtilization);
        var udpLevel = _thresholds.LevelOf(report.UdpUtilization);
        CheckCrossings(report, tcpLevel, udpLevel);

        var top = report with { Destinations = report.Destinations.Length > _options.TopDestinations ? report.Destinations[.._options.TopDestinations] : report.Destinations };
        return _last = new PressureView(snapshot.TakenAt, policy, _thresholds, top, report.Destinations.Length, tcpLevel, udpLevel, Heatmap.View(snapshot.TakenAt, policy));
    }

    private void CheckCrossings(EphemeralPressureReport report, PressureLevel tcpLevel, PressureLevel udpLevel)
    {
        var stillThere = new HashSet<string>(StringComparer.Ordinal);
        Cross("TCP", "protocol", tcpLevel, report.TcpPortsInUse, report.RangeSize, null);
        Cross("UDP", "protocol", udpLevel, report.UdpPortsInUse, report.RangeSize, null);
        stillThere.Add("TCP");
        stillThere.Add("UDP");
        foreach (var destination in report.Destinations)
        {
            var scope = destination.Destination.ToString();
            if (destination.Level == PressureLevel.Normal && !_levels.ContainsKey(scope))
            {
                continue; // the common case: nothing to remember
            }

            stillThere.Add(scope);
            Cross(scope, "destination", destination.Level, destination.PortsInUse, destination.RangeSize, destination.TimeToExhaustion);
        }

        // A destination that holds no port any more is back to normal.
        foreach (var scope in _levels.Keys.Where(s => !stillThere.Contains(s)).ToList())
        {
            Cross(scope, "destination", PressureLevel.Normal, 0, report.RangeSize, null);
        }
    }

    private void Cross(string scope, string kind, PressureLevel level, int inUse, int rangeSize, TimeSpan? timeToExhaustion)
    {
        var before = _levels.GetValueOrDefault(scope, PressureLevel.Normal);
        if (before == level)
        {
            return;
        }

        if (level == PressureLevel.Normal)
        {
            _levels.Remove(scope);
        }
        else
        {
            _levels[scope] = level;
        }

        var utilization = rangeSize == 0 ? 0 : (double)inUse / rangeSize;
        var exhaustion = timeToExhaustion is { } t ? string.Create(CultureInfo.InvariantCulture, $"; at the current opening rate the ports run out in {Model.Display.Age(t)}") : "";
        if (level > before)
        {
            _metrics.ThresholdCrossed(kind, level);
            _logger.Log(
                level == PressureLevel.Critical ? LogLevel.Error : LogLevel.Warning,
                "Ephemeral port pressure {Level} for {Kind} {Scope}: {InUse} of {RangeSize} ports in use ({Utilization:P1}; warning at {Warning:P0}, critical at {Critical:P0}){Exhaustion}",
                level, kind, scope, inUse, rangeSize, utilization, _thresholds.Warning, _thresholds.Critical, exhaustion);
        }
        else
        {
            _logger.LogInformation(
                "Ephemeral port pressure for {Kind} {Scope} is down to {Level}: {InUse} of {RangeSize} ports in use ({Utilization:P1})",
                kind, scope, level, inUse, rangeSize, utilization);
        }
    }
}

/// <summary>The ephemeral port pressure a page shows, as of one snapshot.</summary>
/// <param name="At">When the snapshot was taken.</param>
/// <param name="Policy">The OS port policy (the range).</param>
/// <param name="Thresholds">Where warning and critical start.</param>
/// <param name="Report">Per protocol, and the top destinations.</param>
/// <param name="DestinationCount">Destinations holding ports, before keeping the top ones.</param>
/// <param name="TcpLevel">The level of TCP's use of the range.</param>
/// <param name="UdpLevel">The level of UDP's use of the range.</param>
/// <param name="Heatmap">Where new sockets took their ports, recently.</param>
public sealed record PressureView(
    DateTimeOffset At,
    OsPortPolicy Policy,
    PressureThresholds Thresholds,
    EphemeralPressureReport Report,
    int DestinationCount,
    PressureLevel TcpLevel,
    PressureLevel UdpLevel,
    HeatmapView Heatmap)
{
    public static PressureView Empty { get; } = new(
        DateTimeOffset.UnixEpoch, OsPortPolicy.LinuxDefault, PressureThresholds.Default,
        new EphemeralPressureReport(OsPortPolicy.LinuxDefault.EphemeralRangeSize, 0, 0, 0, PressureLevel.Normal, []),
        0, PressureLevel.Normal, PressureLevel.Normal, HeatmapView.Empty);

    public bool HasData => At != DateTimeOffset.UnixEpoch;
}
