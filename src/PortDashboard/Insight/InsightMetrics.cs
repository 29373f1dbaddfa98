using System.Diagnostics.Metrics;
using PortDashboard.Core.Pressure;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Insight;

/// <summary>
/// The insight instruments on the meter <see cref="MeterName"/> (exported on /metrics with dots as underscores:
/// <c>portdashboard_ephemeral_destination_utilization</c>). Gauges read the latest views of <see cref="InsightState"/>;
/// counters are added to as things happen.
/// </summary>
public sealed class InsightMetrics
{
    public const string MeterName = "PortDashboard";

    private readonly Counter<long> _thresholdCrossings;
    private readonly Counter<long> _destroyed;
    private readonly Counter<long> _shortLived;
    private readonly Counter<long> _listenerChanges;
    private readonly Counter<long> _historyWrites;
    private readonly Counter<long> _historyRowsInserted;
    private readonly Counter<long> _historyWriteFailures;
    private readonly Histogram<double> _historyBatchDuration;
    private readonly Histogram<double> _insightBatchDuration;
    private long _historyRows = -1;

    public InsightMetrics(IMeterFactory meterFactory, InsightState state)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(state);
        var meter = meterFactory.Create(MeterName);

        // Ports in use per protocol and the range's size are exported by PortDashboardMetrics
        // (portdashboard_ephemeral_ports_in_use, portdashboard_ephemeral_port_range_size): one name per figure.
        meter.CreateObservableGauge("portdashboard.ephemeral.time_wait", () => state.Pressure.Report.TcpTimeWait,
            "{port}", "TCP ports of the OS ephemeral range held in TIME_WAIT");
        meter.CreateObservableGauge("portdashboard.ephemeral.utilization", () =>
        {
            var report = state.Pressure.Report;
            return new[]
            {
                new Measurement<double>(report.TcpUtilization, new KeyValuePair<string, object?>("protocol", "tcp")),
                new Measurement<double>(report.UdpUtilization, new KeyValuePair<string, object?>("protocol", "udp")),
            };
        }, null, "Share (0-1) of the OS ephemeral range in use, per protocol");
        meter.CreateObservableGauge("portdashboard.ephemeral.pressure.level", () => (int)state.Pressure.Report.Level,
            null, "Worst ephemeral port pressure level: 0 normal, 1 warning, 2 critical");
        meter.CreateObservableGauge("portdashboard.ephemeral.destination.utilization",
            () => PerDestination(state, d => d.Utilization), null,
            "Share (0-1) of the OS ephemeral range one destination (local address, remote endpoint, protocol) holds; top destinations");
        meter.CreateObservableGauge("portdashboard.ephemeral.destination.ports.in_use",
            () => PerDestination(state, d => d.PortsInUse), "{port}", "Ephemeral ports one destination holds (TIME_WAIT included); top destinations");
        meter.CreateObservableGauge("portdashboard.ephemeral.destination.opening.rate",
            () => PerDestination(state, d => d.OpeningRatePerSecond), "{socket}/s", "New sockets per second toward one destination over the last 60 s; top destinations");
        _thresholdCrossings = meter.CreateCounter<long>("portdashboard.ephemeral.threshold.crossings", "{crossing}",
            "Times ephemeral port use rose to the warning or critical level (tags: level, scope = protocol or destination)");

        _destroyed = meter.CreateCounter<long>("portdashboard.sockets.destroyed", "{socket}", "Sockets the kernel reported destroyed (seen closing)");
        _shortLived = meter.CreateCounter<long>("portdashboard.sockets.short_lived", "{socket}", "Sockets that opened and closed between two polls (seen only closing)");
        meter.CreateObservableGauge("portdashboard.sockets.destroy_capture.active", () => state.ShortLived.Status.IsCapturing ? 1 : 0,
            null, "1 when short-lived sockets are captured (CAP_NET_ADMIN), 0 when not");

        _listenerChanges = meter.CreateCounter<long>("portdashboard.listeners.changes", "{event}", "Listeners that appeared (change=new) or went (change=gone)");
        meter.CreateObservableGauge("portdashboard.listeners", () => state.Listeners.Current.Length, "{listener}", "Listeners now (TCP LISTEN and bound UDP)");
        meter.CreateObservableGauge("portdashboard.listeners.exposed", () => state.Listeners.Exposed, "{listener}", "Listeners bound to all interfaces");
        meter.CreateObservableGauge("portdashboard.listeners.in_ephemeral_range", () => state.Listeners.InEphemeralRange, "{listener}",
            "Listeners bound inside the OS ephemeral range (outgoing connections can collide)");
        meter.CreateObservableGauge("portdashboard.listeners.since_baseline", () =>
        {
            var view = state.Listeners;
            var (added, gone) = view.Baseline is null ? (view.NewSinceStart, view.GoneSinceStart) : (view.NewSinceBaseline, view.GoneSinceBaseline);
            return new[]
            {
                new Measurement<int>(added.Length, new KeyValuePair<string, object?>("change", "new")),
                new Measurement<int>(gone.Length, new KeyValuePair<string, object?>("change", "gone")),
            };
        }, "{listener}", "Listeners new or gone compared with the saved baseline (or with start when none is saved)");

        _insightBatchDuration = meter.CreateHistogram<double>("portdashboard.insight.batch.duration", "s",
            "Time the insight loop took for one batch of the feed (pressure, short-lived sockets, history records, listener watch)");
        _historyWrites = meter.CreateCounter<long>("portdashboard.history.writes", "{write}", "Births, deaths and events written to the history database");
        _historyRowsInserted = meter.CreateCounter<long>("portdashboard.history.sockets.recorded", "{socket}", "Sockets added to the history database");
        _historyWriteFailures = meter.CreateCounter<long>("portdashboard.history.write.failures", "{write}", "History writes dropped because the database refused them");
        _historyBatchDuration = meter.CreateHistogram<double>("portdashboard.history.batch.duration", "s", "Time to write one batch (transaction) of history");
        meter.CreateObservableGauge("portdashboard.history.rows", () => Interlocked.Read(ref _historyRows) is var rows and >= 0
            ? [new Measurement<long>(rows)]
            : Array.Empty<Measurement<long>>(), "{socket}", "Sockets in the history database (as of the last pruning)");
    }

    internal void ThresholdCrossed(string scope, PressureLevel level) =>
        _thresholdCrossings.Add(1, new KeyValuePair<string, object?>("level", level.ToString().ToLowerInvariant()), new KeyValuePair<string, object?>("scope", scope));

    internal void SocketDestroyed(TransportProtocol protocol) =>
        _destroyed.Add(1, new KeyValuePair<string, object?>("protocol", protocol.ToQueryValue()));

    internal void ShortLivedSeen(int count)
    {
        if (count > 0)
        {
            _shortLived.Add(count);
        }
    }

    internal void ListenerChanged(Listeners.ListenerChange change) =>
        _listenerChanges.Add(1, new KeyValuePair<string, object?>("change", change == Listeners.ListenerChange.New ? "new" : "gone"));

    internal void HistoryWritten(int writes, int socketsInserted, TimeSpan duration)
    {
        _historyWrites.Add(writes);
        _historyRowsInserted.Add(socketsInserted);
        _historyBatchDuration.Record(duration.TotalSeconds);
    }

    internal void InsightBatch(TimeSpan duration) => _insightBatchDuration.Record(duration.TotalSeconds);

    internal void HistoryWriteFailed(int writes) => _historyWriteFailures.Add(writes);

    internal void HistoryRows(long rows) => Interlocked.Exchange(ref _historyRows, rows);

    private static IEnumerable<Measurement<double>> PerDestination(InsightState state, Func<DestinationPressure, double> value)
    {
        foreach (var destination in state.Pressure.Report.Destinations)
        {
            var d = destination.Destination;
            yield return new Measurement<double>(
                value(destination),
                new KeyValuePair<string, object?>("protocol", d.Protocol.ToQueryValue()),
                new KeyValuePair<string, object?>("local_address", d.LocalAddress.ToString("n", System.Globalization.CultureInfo.InvariantCulture)),
                new KeyValuePair<string, object?>("remote_address", d.Remote.Address.ToString("n", System.Globalization.CultureInfo.InvariantCulture)),
                new KeyValuePair<string, object?>("remote_port", d.Remote.Port));
        }
    }
}
