using Microsoft.AspNetCore.Components;
using MudBlazor;
using PortDashboard.Components.Fleet;
using PortDashboard.Fleet;
using PortDashboard.Core.Pressure;
using PortDashboard.Insight;
using PortDashboard.Insight.Listeners;
using PortDashboard.Insight.Pressure;
using PortDashboard.Insight.ShortLived;
using PortDashboard.Model;

namespace PortDashboard.Components.Pages;

/// <summary>
/// Are we about to run out of ephemeral ports, and who is burning them: use per protocol against the OS range, the
/// TIME_WAIT share, each destination's pool (gauges for the top ones), the allocation heatmap, the sockets seen
/// closing, and the listeners that sit inside the range. Reads <see cref="InsightState"/>; refreshes at most twice a second.
/// </summary>
public partial class Ephemeral
{
    private HostScope? _scope;
    private IReadOnlyList<HostPressure> _hostPressure = [];

    [Inject]
    private IServiceProvider ServiceProvider { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    private bool IsFleet => _scope?.Selection.IsFleet == true;

    protected override void OnInitialized()
    {
        _scope = new HostScope(ServiceProvider, Navigation, Feed, () => _ = InvokeAsync(() =>
        {
            if (RefreshHosts())
            {
                StateHasChanged();
            }
        }));
        RefreshHosts();
        base.OnInitialized();
    }

    /// <summary>With fleet hosts in view, each host's report from its own table and port policy.</summary>
    private bool RefreshHosts()
    {
        if (_scope is null || !_scope.Refresh())
        {
            return false;
        }

        _hostPressure = [.. _scope.Selection.Hosts.Select(HostPressure.Of)];
        return true;
    }

    /// <summary>The insight loop's news, or (once a second at most) the fleet's.</summary>
    protected override bool Observe(DateTimeOffset now) => base.Observe(now) | RefreshHosts();

    protected override void OnDisposing()
    {
        base.OnDisposing();
        _scope?.Dispose();
    }

    /// <summary>One fleet host's line: its ephemeral report, judged by its own OS range, and its listeners inside that range.</summary>
    private sealed record HostPressure(FleetHost Host, EphemeralPressureReport Report, int ListenersInRange)
    {
        public static HostPressure Of(FleetHost host)
        {
            var snapshot = host.ToSnapshot();
            var listeners = snapshot.Sockets.Count(s => ListeningRow.IsListening(s) && snapshot.PortPolicy.IsOsEphemeral(s.Local.Port));
            return new HostPressure(host, EphemeralPressure.Compute(snapshot), listeners);
        }
    }

    private const int GaugeCount = 6;
    private const int ClosedRows = 100;

    private PressureView Pressure => Insight.Pressure;

    private EphemeralPressureReport Report => Pressure.Report;

    private ShortLivedView ShortLived => Insight.ShortLived;

    private string HeatmapHint => $"(new outgoing sockets per slice of the range, {Display.Count(Pressure.Heatmap.Buckets)} slices, per {Display.Interval(Pressure.Heatmap.Slot)})";

    private IReadOnlyList<ListenerInfo> EphemeralListeners => [.. Insight.Listeners.Current.Where(l => l.Flags.InEphemeralRange)];

    /// <summary>One alert per protocol or destination at the warning level or above, the worst first.</summary>
    private IEnumerable<PressureAlert> Alerts
    {
        get
        {
            var pressure = Pressure;
            var report = pressure.Report;
            var alerts = new List<PressureAlert>();
            void Add(PressureLevel level, string text)
            {
                if (level != PressureLevel.Normal)
                {
                    alerts.Add(new PressureAlert(level, text));
                }
            }

            Add(pressure.TcpLevel, $"TCP holds {DestinationGaugePercent(report.TcpUtilization)} of the OS ephemeral range ({Display.Count(report.TcpPortsInUse)} of {Display.Count(report.RangeSize)} ports).");
            Add(pressure.UdpLevel, $"UDP holds {DestinationGaugePercent(report.UdpUtilization)} of the OS ephemeral range ({Display.Count(report.UdpPortsInUse)} of {Display.Count(report.RangeSize)} ports).");
            foreach (var d in report.Destinations.Where(d => d.Level != PressureLevel.Normal))
            {
                Add(d.Level, $"{d.Destination} holds {DestinationGaugePercent(d.Utilization)} of the ports it can use ({Display.Count(d.PortsInUse)} of {Display.Count(d.RangeSize)}, {Display.Count(d.TimeWait)} in TIME-WAIT); {Controls.Insight.DestinationGauge.Exhaustion(d)}.");
            }

            return alerts.OrderByDescending(a => a.Level);
        }
    }

    private static string Count(long value) => value.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);

    private static string DestinationGaugePercent(double share) => Controls.Insight.DestinationGauge.Percent(share);

    private string ShortLivedTo(Destination destination)
    {
        foreach (var (d, count) in ShortLived.TopShortLived)
        {
            if (d == destination)
            {
                return Count(count);
            }
        }

        return "";
    }

    private static Color LevelColor(PressureLevel level) => level switch
    {
        PressureLevel.Critical => Color.Error,
        PressureLevel.Warning => Color.Warning,
        _ => Color.Primary,
    };

    private static string OwnerText(ClosedSocket closed) => closed.Owner is null
        ? ""
        : (closed.OwnerSource == OwnerSource.SameDestination ? "likely " : "") + Display.Owner(closed.Owner);

    private static string OwnerTitle(ClosedSocket closed) => closed.OwnerSource switch
    {
        OwnerSource.Seen => "Held it when a snapshot showed it",
        OwnerSource.Listener => "Accepted it: listens on its local port",
        OwnerSource.SameDestination => "Last seen with a connection from the same local address to the same destination",
        _ => "Not known: the socket was never in a snapshot",
    };

    private sealed record PressureAlert(PressureLevel Level, string Text)
    {
        public Severity Severity => Level == PressureLevel.Critical ? Severity.Error : Severity.Warning;
    }
}
