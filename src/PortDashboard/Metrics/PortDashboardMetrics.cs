using System.Collections.Frozen;
using System.Diagnostics.Metrics;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Pressure;
using PortDashboard.Core.Sockets;
using PortDashboard.Hubs;
using PortDashboard.Monitoring;
using PortDashboard.Security;

namespace PortDashboard.Metrics;

/// <summary>
/// The app's own instruments on the <see cref="MeterName"/> meter (System.Diagnostics.Metrics), exported at
/// <c>/metrics</c> with ASP.NET Core's and the runtime's. Gauges are read from the feed's current snapshot when
/// scraped; counters and the duration histogram follow each published snapshot (the feed's status changes after every
/// read). Prometheus names (the exporter adds unit suffixes and <c>_total</c>):
/// <list type="bullet">
/// <item><c>portdashboard_sockets{range,state,protocol}</c>: sockets by the IANA range of their local port, state and protocol.</item>
/// <item><c>portdashboard_ephemeral_ports_in_use{protocol}</c>, <c>portdashboard_ephemeral_port_range_size</c>: local ports taken from the OS ephemeral range, and its size.</item>
/// <item><c>portdashboard_snapshot_duration_seconds</c> (histogram), <c>portdashboard_snapshot_age_seconds</c>, <c>portdashboard_snapshot_read_failures_total</c>.</item>
/// <item><c>portdashboard_sockets_opened_total{protocol}</c>, <c>portdashboard_sockets_closed_total{protocol}</c>: sockets that appeared or went between two snapshots.</item>
/// <item><c>portdashboard_subscribers</c>, <c>portdashboard_subscribers_resynced_total</c>, <c>portdashboard_hub_connections</c>.</item>
/// <item><c>portdashboard_subscribers_backlog</c>, <c>portdashboard_subscribers_backlog_longest</c>: published snapshots
/// queued for the subscribers (summed, and the longest queue: at most <c>SubscriberBacklog</c>);
/// <c>portdashboard_hub_sends_waiting</c>: hub subscriptions whose client has not taken their last message yet.</item>
/// <item><c>portdashboard_attribution_partial</c> (1 when some processes could not be read), <c>portdashboard_attribution_processes_skipped</c>.</item>
/// <item><c>portdashboard_process_tcp_throughput_bytes_per_second{process,direction}</c>: bytes/s received and sent by the
/// busiest <see cref="TopProcesses"/> process names, summed over their TCP connections (tcp_info counters). Bounded:
/// no per-connection series, and absent while no rate is known (first poll, the /proc/net reader).</item>
/// </list>
/// </summary>
public sealed class PortDashboardMetrics : IHostedService, IDisposable
{
    public const string MeterName = "PortDashboard";

    /// <summary>Bucket bounds for snapshot durations: 1 ms to 10 s.</summary>
    private static readonly double[] DurationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private static readonly string[] Ranges = [.. Enum.GetValues<PortRange>().Select(r => r.ToQueryValue())];

    /// <summary>Every (state, protocol) a socket can be in: each series is reported, at 0 when empty, so none goes stale.</summary>
    private static readonly (SocketState State, TransportProtocol Protocol)[] StatesByProtocol =
    [
        .. Enum.GetValues<SocketState>()
            .Where(s => s is not SocketState.Unknown and not SocketState.Unconnected)
            .Select(s => (s, TransportProtocol.Tcp)),
        (SocketState.Unconnected, TransportProtocol.Udp),
        (SocketState.Established, TransportProtocol.Udp),
    ];

    /// <summary>Process names with a throughput series at most: the busiest ones, so the cardinality stays bounded.</summary>
    public const int TopProcesses = 20;

    private readonly Meter _meter;
    private readonly SnapshotFeed _feed;
    private readonly HubConnectionLimit _hubConnections;
    private readonly HubSubscriptions _hubSubscriptions;
    private readonly TimeProvider _time;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _opened;
    private readonly Counter<long> _closed;
    private readonly Counter<long> _readFailures;
    private volatile Figures? _figures;
    private long _lastSequence;
    private int _lastFailures;

    public PortDashboardMetrics(IMeterFactory meters, SnapshotFeed feed, HubConnectionLimit hubConnections, HubSubscriptions hubSubscriptions, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _feed = feed;
        _hubConnections = hubConnections;
        _hubSubscriptions = hubSubscriptions;
        _time = time;
        _meter = meters.Create(MeterName);

        _meter.CreateObservableGauge("portdashboard.sockets", ObserveSockets, "{socket}", "Sockets by the IANA range of their local port, state and protocol");
        _meter.CreateObservableGauge("portdashboard.ephemeral_ports.in_use", ObserveEphemeralInUse, "{port}", "Local ports in use from the OS ephemeral range (net.ipv4.ip_local_port_range)");
        _meter.CreateObservableGauge("portdashboard.ephemeral_port_range.size", () => Current()?.RangeSize ?? 0, "{port}", "Ports in the OS ephemeral range");
        _meter.CreateObservableGauge("portdashboard.snapshot.age", ObserveAge, "s", "Age of the snapshot being served; grows while reads fail");
        _meter.CreateObservableGauge("portdashboard.subscribers", () => _feed.SubscriberCount, "{subscriber}", "Live subscriptions to the feed: pages and hub clients");
        _meter.CreateObservableCounter("portdashboard.subscribers.resynced", () => _feed.ResyncCount, "{resync}", "Subscribers that fell behind and were sent a fresh snapshot");
        _meter.CreateObservableGauge("portdashboard.subscribers.backlog", () => _feed.Backlog.Total, "{snapshot}", "Published snapshots queued for the subscribers, summed (each queue holds at most PortDashboard:SubscriberBacklog)");
        _meter.CreateObservableGauge("portdashboard.subscribers.backlog.longest", () => _feed.Backlog.Longest, "{snapshot}", "The longest subscriber queue of published snapshots");
        _meter.CreateObservableGauge("portdashboard.hub.connections", () => _hubConnections.Open, "{connection}", "Open connections to the hub /hubs/sockets");
        _meter.CreateObservableGauge("portdashboard.hub.sends.waiting", () => _hubSubscriptions.SendsWaiting, "{subscription}", "Hub subscriptions whose client has not taken their last message yet (its transport buffer is full)");
        _meter.CreateObservableGauge("portdashboard.attribution.partial", () => Current()?.Partial ?? 0, "", "1 when some processes could not be read, so some sockets show no owner");
        _meter.CreateObservableGauge("portdashboard.attribution.processes_skipped", () => Current()?.ProcessesSkipped ?? 0, "{process}", "Processes whose descriptors could not be read in the latest snapshot");
        _meter.CreateObservableGauge("portdashboard.process.tcp_throughput", ObserveThroughput, "By/s", $"Bytes/s received and sent by the {TopProcesses} busiest process names over their TCP connections");
        _duration = _meter.CreateHistogram(
            "portdashboard.snapshot.duration", "s", "Time to read, attribute and stamp one snapshot",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _opened = _meter.CreateCounter<long>("portdashboard.sockets.opened", "{socket}", "Sockets that appeared between two snapshots");
        _closed = _meter.CreateCounter<long>("portdashboard.sockets.closed", "{socket}", "Sockets that went away between two snapshots");
        _readFailures = _meter.CreateCounter<long>("portdashboard.snapshot.read_failures", "{failure}", "Failed reads of the socket table");
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _lastSequence = _feed.Sequence;
        _feed.StatusChanged += OnStatusChanged;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _feed.StatusChanged -= OnStatusChanged;
        return Task.CompletedTask;
    }

    public void Dispose() => _meter.Dispose();

    /// <summary>Runs on the snapshot service's thread after each read: records what the new snapshots brought.</summary>
    private void OnStatusChanged(SnapshotServiceStatus status)
    {
        if (status.IsFailing)
        {
            if (status.ConsecutiveFailures > _lastFailures)
            {
                _readFailures.Add(status.ConsecutiveFailures - _lastFailures);
            }

            _lastFailures = status.ConsecutiveFailures;
            return;
        }

        _lastFailures = 0;
        var current = _feed.CurrentBatch;
        if (current.Sequence <= _lastSequence)
        {
            return;
        }

        // Every delta since the last one counted, from the history (none is missed if a status change was).
        foreach (var delta in _feed.History.Since(_lastSequence) ?? [])
        {
            if (delta.Sequence == 1)
            {
                continue; // the first table: sockets that were already there, not opened
            }

            Count(_opened, delta.Added);
            Count(_closed, delta.Removed);
        }

        _duration.Record(current.Latest.Duration.TotalSeconds);
        _lastSequence = current.Sequence;
    }

    private static void Count(Counter<long> counter, IEnumerable<Socket> sockets)
    {
        long tcp = 0, udp = 0;
        foreach (var socket in sockets)
        {
            _ = socket.Protocol == TransportProtocol.Tcp ? tcp++ : udp++;
        }

        if (tcp > 0)
        {
            counter.Add(tcp, new KeyValuePair<string, object?>("protocol", "tcp"));
        }

        if (udp > 0)
        {
            counter.Add(udp, new KeyValuePair<string, object?>("protocol", "udp"));
        }
    }

    private IEnumerable<Measurement<long>> ObserveSockets()
    {
        var figures = Current();
        if (figures is null)
        {
            yield break;
        }

        foreach (var (key, count) in figures.Sockets)
        {
            yield return new Measurement<long>(
                count,
                new KeyValuePair<string, object?>("range", key.Range),
                new KeyValuePair<string, object?>("state", key.State),
                new KeyValuePair<string, object?>("protocol", key.Protocol));
        }
    }

    private IEnumerable<Measurement<long>> ObserveEphemeralInUse()
    {
        if (Current() is not { } figures)
        {
            yield break;
        }

        yield return new Measurement<long>(figures.TcpEphemeralInUse, new KeyValuePair<string, object?>("protocol", "tcp"));
        yield return new Measurement<long>(figures.UdpEphemeralInUse, new KeyValuePair<string, object?>("protocol", "udp"));
    }

    private IEnumerable<Measurement<double>> ObserveThroughput()
    {
        if (Current() is not { } figures)
        {
            yield break;
        }

        foreach (var (name, rate) in figures.Throughput)
        {
            var process = new KeyValuePair<string, object?>("process", name);
            yield return new Measurement<double>(rate.ReceivedPerSecond, process, new KeyValuePair<string, object?>("direction", "received"));
            yield return new Measurement<double>(rate.SentPerSecond, process, new KeyValuePair<string, object?>("direction", "sent"));
        }
    }

    private IEnumerable<Measurement<double>> ObserveAge()
    {
        if (_feed.Status.LastSuccessAt is { } last)
        {
            yield return new Measurement<double>(Math.Max(0, (_time.GetUtcNow() - last).TotalSeconds));
        }
    }

    /// <summary>The figures of the current snapshot, computed once per snapshot (at the first scrape that needs them).</summary>
    private Figures? Current()
    {
        var snapshot = _feed.Current;
        if (ReferenceEquals(snapshot, Snapshot.Empty))
        {
            return null; // no snapshot yet
        }

        var figures = _figures;
        if (figures is null || !ReferenceEquals(figures.Snapshot, snapshot))
        {
            figures = Figures.Of(snapshot);
            _figures = figures;
        }

        return figures;
    }

    private readonly record struct SeriesKey(string Range, string State, string Protocol);

    private sealed record Figures(
        Snapshot Snapshot,
        FrozenDictionary<SeriesKey, long> Sockets,
        int TcpEphemeralInUse,
        int UdpEphemeralInUse,
        int RangeSize,
        int Partial,
        int ProcessesSkipped,
        IReadOnlyList<(string Name, Throughput Rate)> Throughput)
    {
        public static Figures Of(Snapshot snapshot)
        {
            var counts = new Dictionary<SeriesKey, long>();
            foreach (var range in Ranges)
            {
                foreach (var (state, protocol) in StatesByProtocol)
                {
                    counts[new SeriesKey(range, state.ToQueryValue(), protocol.ToQueryValue())] = 0;
                }
            }

            foreach (var socket in snapshot.Sockets)
            {
                var key = new SeriesKey(
                    PortRanges.Classify(socket.Local.Port).ToQueryValue(), socket.State.ToQueryValue(), socket.Protocol.ToQueryValue());
                counts[key] = counts.GetValueOrDefault(key) + 1;
            }

            var pressure = EphemeralPressure.Compute(snapshot, top: 0);
            return new Figures(
                snapshot,
                counts.ToFrozenDictionary(),
                pressure.TcpPortsInUse,
                pressure.UdpPortsInUse,
                pressure.RangeSize,
                snapshot.Attribution.IsPartial ? 1 : 0,
                snapshot.Attribution.ProcessesSkipped,
                ThroughputByName(snapshot));
        }

        /// <summary>The busiest process names' summed rates (processes of one name share a series).</summary>
        private static IReadOnlyList<(string Name, Throughput Rate)> ThroughputByName(Snapshot snapshot)
        {
            var byProcess = snapshot.Traffic.ByProcess(snapshot, int.MaxValue);
            if (byProcess is null)
            {
                return [];
            }

            var byName = new Dictionary<string, Throughput>(StringComparer.Ordinal);
            foreach (var process in byProcess)
            {
                byName[process.Name] = byName.GetValueOrDefault(process.Name) + process.Rate;
            }

            return [.. byName.OrderByDescending(p => p.Value.Total).ThenBy(p => p.Key, StringComparer.Ordinal).Take(TopProcesses).Select(p => (p.Key, p.Value))];
        }
    }
}
