using System.Diagnostics.Metrics;
using PortDashboard.Metrics;

namespace PortDashboard.Fleet;

/// <summary>
/// The fleet's instruments on the app's meter (so /metrics exports them with the rest), every one with a
/// <c>host</c> label: what this dashboard node knows of each remote host.
/// </summary>
public sealed class FleetMetrics : IDisposable
{
    private static readonly string[] Ranges = ["wellknown", "registered", "ephemeral"];

    private readonly Meter _meter;
    private readonly FleetStore _store;

    public FleetMetrics(IMeterFactory meters, FleetStore store)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _store = store;
        _meter = meters.Create(PortDashboardMetrics.MeterName);
        _meter.CreateObservableGauge("portdashboard.fleet.host.online", ObserveOnline, "", "1 while the host's heartbeat is fresh and its table in sync; 0 stale or offline");
        _meter.CreateObservableGauge("portdashboard.fleet.sockets", ObserveSockets, "{socket}", "A remote host's sockets by the IANA range of their local port (last known while not online)");
        _meter.CreateObservableGauge("portdashboard.fleet.listeners.exposed", () => Each(s => s.ExposedListeners), "{socket}", "A remote host's listeners on every address");
        _meter.CreateObservableGauge("portdashboard.fleet.ephemeral_ports.in_use", () => Each(s => s.EphemeralPortsInUse), "{port}", "A remote host's busier protocol's local ports in use from its OS ephemeral range");
        _meter.CreateObservableGauge("portdashboard.fleet.host.claims", ObserveClaims, "{agent}", "Agent instances publishing under the host's name: more than 1 is a duplicate claim");
    }

    private IEnumerable<Measurement<int>> ObserveOnline() =>
        _store.Hosts.Values.Select(h => new Measurement<int>(h.IsLive ? 1 : 0, new KeyValuePair<string, object?>("host", h.Name)));

    private IEnumerable<Measurement<int>> ObserveClaims() =>
        _store.Hosts.Values.Select(h => new Measurement<int>(h.Instances.Length, new KeyValuePair<string, object?>("host", h.Name)));

    private IEnumerable<Measurement<int>> ObserveSockets()
    {
        foreach (var host in _store.Hosts.Values)
        {
            var summary = host.Summarize();
            for (var i = 0; i < Ranges.Length; i++)
            {
                yield return new Measurement<int>(summary.ByRange[i],
                    new KeyValuePair<string, object?>("host", host.Name), new KeyValuePair<string, object?>("range", Ranges[i]));
            }
        }
    }

    private IEnumerable<Measurement<int>> Each(Func<FleetHostSummary, int> value) =>
        _store.Hosts.Values.Select(h => new Measurement<int>(value(h.Summarize()), new KeyValuePair<string, object?>("host", h.Name)));

    public void Dispose() => _meter.Dispose();
}
