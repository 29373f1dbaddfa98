using PortDashboard.Core.Sockets;
using PortDashboard.Model;
using PortDashboard.Monitoring;

namespace PortDashboard.Components.Pages;

/// <summary>
/// What is listening, and who can reach it: TCP LISTEN and bound UDP sockets with their port's range, service,
/// bind address and exposure. Listeners change rarely, so the list is rebuilt only when a batch touches one.
/// </summary>
public partial class Listening
{
    private IReadOnlyList<ListeningRow> _rows = [];
    private Snapshot _snapshot = Snapshot.Empty;
    private bool _hasData;

    private int ExposedCount => _rows.Count(r => r.Exposure == Exposure.AllInterfaces);

    private int LoopbackCount => _rows.Count(r => r.Exposure == Exposure.LoopbackOnly);

    protected override bool ApplyBatch(FeedBatch batch, DateTimeOffset now)
    {
        var rebuild = batch.IsResync || !_hasData || !Equals(batch.Latest.PortPolicy, _snapshot.PortPolicy)
            || batch.Deltas.Any(TouchesListeners);
        _snapshot = batch.Latest;
        _hasData = true;
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
