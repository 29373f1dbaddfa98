using System.Collections.Immutable;
using PortDashboard.Core.Pressure;
using PortDashboard.Insight.History;
using PortDashboard.Insight.Listeners;
using PortDashboard.Insight.Pressure;
using PortDashboard.Insight.ShortLived;

namespace PortDashboard.Insight;

/// <summary>Sockets seen closing, as a page shows them.</summary>
/// <param name="Status">Whether they are captured at all, and if not why.</param>
/// <param name="SeenClosing">Sockets the kernel reported destroyed since start.</param>
/// <param name="ShortLived">Of those, the ones no snapshot showed open.</param>
/// <param name="Lost">Notifications lost (kernel queue overflow, or nobody took them).</param>
/// <param name="Recent">The latest ones, newest first.</param>
/// <param name="TopShortLived">Destinations with the most short-lived sockets since start.</param>
public sealed record ShortLivedView(
    DestroyCaptureStatus Status,
    long SeenClosing,
    long ShortLived,
    long Lost,
    ImmutableArray<ClosedSocket> Recent,
    ImmutableArray<KeyValuePair<Destination, long>> TopShortLived)
{
    public static ShortLivedView Empty { get; } = new(DestroyCaptureStatus.Starting, 0, 0, 0, [], []);
}

/// <summary>Whether history is kept, where, and why not.</summary>
public sealed record HistoryStatus(bool Enabled, string? Path, string? Error)
{
    public static HistoryStatus Starting { get; } = new(true, null, null);

    public bool IsAvailable => Enabled && Error is null && Path is not null;
}

/// <summary>
/// How the history writer fares: the last write's error (a full disk, a damaged file) while it lasts, since when, and
/// the records dropped since start because a write failed. Error goes back to null at the first write that succeeds.
/// </summary>
public sealed record HistoryWriteHealth(string? Error, DateTimeOffset? Since, long Dropped, long Reopened)
{
    public static HistoryWriteHealth Healthy { get; } = new(null, null, 0, 0);
}

/// <summary>
/// The latest insight views for pages, metrics and the API: replaced whole (immutable records) by the insight loop
/// after each poll. <see cref="Changed"/> tells subscribers; handlers run on the loop's thread and must not block.
/// </summary>
public sealed class InsightState(ListenerWatch listeners, TimeProvider time)
{
    private volatile PressureView _pressure = PressureView.Empty;
    private volatile ShortLivedView _shortLived = ShortLivedView.Empty;
    private volatile HistoryStatus _history = HistoryStatus.Starting;
    private volatile HistoryStore? _store;
    private volatile HistoryWriteHealth _writeHealth = HistoryWriteHealth.Healthy;

    public PressureView Pressure => _pressure;

    public ShortLivedView ShortLived => _shortLived;

    public ListenerView Listeners => listeners.View;

    public HistoryStatus History => _history;

    /// <summary>Whether the history writer's last write succeeded, and what failed writes dropped.</summary>
    public HistoryWriteHealth WriteHealth => _writeHealth;

    /// <summary>The history database, once open; null when history is off or failed.</summary>
    public HistoryStore? Store => _store;

    /// <summary>Raised after new views are published.</summary>
    public event Action? Changed;

    /// <summary>Raised with the listeners that appeared or went at one poll (never empty).</summary>
    public event Action<IReadOnlyList<ListenerEvent>>? ListenerChanged;

    /// <summary>Makes the listeners now the baseline and saves it in the history database when there is one.</summary>
    public async Task<ListenerBaseline> SaveListenerBaselineAsync(CancellationToken cancellationToken = default)
    {
        var baseline = listeners.SaveBaseline(time.GetUtcNow());
        if (_store is { } store)
        {
            await store.SaveBaselineAsync(baseline, cancellationToken);
        }

        RaiseChanged();
        return baseline;
    }

    internal void Publish(PressureView pressure, ShortLivedView shortLived)
    {
        _pressure = pressure;
        _shortLived = shortLived;
        RaiseChanged();
    }

    internal void SetHistory(HistoryStatus status, HistoryStore? store)
    {
        _history = status;
        _store = store;
    }

    internal void SetWriteHealth(HistoryWriteHealth health) => _writeHealth = health;

    internal void RaiseListenerEvents(IReadOnlyList<ListenerEvent> events)
    {
        if (events.Count > 0)
        {
            ListenerChanged?.Invoke(events);
        }
    }

    private void RaiseChanged() => Changed?.Invoke();
}
