using Microsoft.AspNetCore.Components;
using PortDashboard.Components.Fleet;
using PortDashboard.Core.Sockets;
using PortDashboard.Model;
using PortDashboard.Monitoring;

namespace PortDashboard.Components.Pages;

/// <summary>
/// What is listening, and who can reach it: TCP LISTEN and bound UDP sockets with their port's range, service,
/// bind address and exposure. Listeners change rarely, so the list is rebuilt only when a batch touches one.
/// With <c>host=</c> naming fleet hosts the rows are theirs, from the <see cref="Fleet.FleetStore"/> (rebuilt on the
/// page's tick after the store changed), with a Host column when several hosts are in view.
/// </summary>
public partial class Listening
{
    private IReadOnlyList<ListeningRow> _rows = [];
    private Snapshot _snapshot = Snapshot.Empty;
    private bool _hasData;
    private HostScope _scope = default!;
    private readonly Func<ListeningRow, int, string> _rowClass;

    public Listening() => _rowClass = (row, _) => IsStale(row) ? "row-stale" : "";

    [Inject]
    private IServiceProvider ServiceProvider { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    private bool IsFleet => _scope.Selection.IsFleet;

    private string TitleHost => _scope.TitleHosts ?? _snapshot.HostName;

    private bool IsStale(ListeningRow row) => IsFleet && _scope.Selection.Hosts.Any(h => h.Name == row.Host && !h.IsLive);

    protected override void OnInitialized()
    {
        _scope = new HostScope(ServiceProvider, Navigation, Feed, OnHostsChosen);
        _scope.Refresh();
        UseFleetRows();
    }

    private void OnHostsChosen() => _ = InvokeAsync(async () =>
    {
        if (_scope.Refresh())
        {
            if (!UseFleetRows())
            {
                _rows = _hasData ? ListeningRow.From(_snapshot, ServiceNames) : [];
            }

            await RefreshNowAsync();
        }
    });

    /// <summary>With fleet hosts in view, their listeners become the rows; whether they did.</summary>
    private bool UseFleetRows()
    {
        if (!IsFleet)
        {
            return false;
        }

        _rows = [.. _scope.Selection.Hosts.SelectMany(h => ListeningRow.From(h.ToSnapshot(), ServiceNames))];
        return true;
    }

    protected override bool OnTick(DateTimeOffset now) => _scope.Refresh() && (UseFleetRows() || Rebuild());

    private bool Rebuild()
    {
        _rows = _hasData ? ListeningRow.From(_snapshot, ServiceNames) : [];
        return true;
    }

    protected override void OnDisposing() => _scope.Dispose();

    private int ExposedCount => _rows.Count(r => r.Exposure == Exposure.AllInterfaces);

    private int LoopbackCount => _rows.Count(r => r.Exposure == Exposure.LoopbackOnly);

    protected override bool ApplyBatch(FeedBatch batch, DateTimeOffset now)
    {
        var rebuild = batch.IsResync || !_hasData || !Equals(batch.Latest.PortPolicy, _snapshot.PortPolicy)
            || batch.Deltas.Any(TouchesListeners);
        _snapshot = batch.Latest;
        _hasData = true;
        if (IsFleet)
        {
            return false; // the fleet hosts' rows are in view
        }

        if (rebuild)
        {
            _rows = ListeningRow.From(batch.Latest, ServiceNames);
        }

        return rebuild;
    }

    private static bool TouchesListeners(Delta delta) =>
        delta.Added.Any(ListeningRow.IsListening)
        || delta.Removed.Any(ListeningRow.IsListening)
        || delta.Changed.Any(c => ListeningRow.IsListening(c.Before) || ListeningRow.IsListening(c.After));

    private static string ExposureClass(Exposure exposure) => exposure switch
    {
        Exposure.AllInterfaces => "exposure exposure-all",
        Exposure.LoopbackOnly => "exposure exposure-loopback",
        _ => "exposure exposure-one",
    };

    private static string ExposureTitle(ListeningRow row) => row.Exposure switch
    {
        Exposure.AllInterfaces => "Bound to every interface: reachable from any network this host is on (firewall permitting)",
        Exposure.LoopbackOnly => "Bound to loopback: reachable from this host only",
        _ => $"Bound to {row.BindAddress} only: reachable by whoever can reach that address",
    };
}
