using Microsoft.AspNetCore.Components;
using PortDashboard.Core.Ports;
using PortDashboard.Monitoring;

namespace PortDashboard.Components;

/// <summary>
/// A page that follows the snapshot feed: it subscribes once the circuit is interactive, applies each batch on the
/// renderer's thread, and refreshes its view at most every <see cref="MinRefreshInterval"/> whatever the churn
/// (a batch arriving sooner is shown by the next tick). A ticker on the injected <see cref="TimeProvider"/> drives
/// time-based work (highlights ending) and flushes pending refreshes. Disposal cancels the watch loop and awaits it.
/// </summary>
public abstract class LiveFeedComponent : ComponentBase, IAsyncDisposable
{
    /// <summary>The shortest time between two refreshes of the view: at most four a second.</summary>
    public static readonly TimeSpan MinRefreshInterval = TimeSpan.FromMilliseconds(250);

    private readonly CancellationTokenSource _stop = new();
    private Task _watch = Task.CompletedTask;
    private ITimer? _ticker;
    private DateTimeOffset _lastRefresh = DateTimeOffset.MinValue;
    private bool _refreshPending;
    private bool _disposed;

    [Inject]
    protected ISnapshotFeed Feed { get; set; } = default!;

    [Inject]
    protected TimeProvider Time { get; set; } = default!;

    [Inject]
    protected ServiceNameRegistry ServiceNames { get; set; } = default!;

    /// <summary>When set, the view is also refreshed this often while nothing else happens (ages keep counting).</summary>
    protected virtual TimeSpan? IdleRefreshInterval => null;

    /// <summary>Applies a batch to the page's model; returns whether the view needs a refresh.</summary>
    protected abstract bool ApplyBatch(FeedBatch batch, DateTimeOffset now);

    /// <summary>Time-based work at each tick; returns whether the view needs a refresh.</summary>
    protected virtual bool OnTick(DateTimeOffset now) => false;

    /// <summary>Brings the rendered view up to date with the model (the default re-renders the page).</summary>
    protected virtual Task RefreshViewAsync()
    {
        StateHasChanged();
        return Task.CompletedTask;
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender && !_disposed)
        {
            _ticker = Time.CreateTimer(_ => _ = InvokeAsync(TickAsync), null, MinRefreshInterval, MinRefreshInterval);
            _watch = Task.Run(() => WatchAsync(_stop.Token));
        }
    }

    /// <summary>Refreshes now (after a user action), resetting the pacing.</summary>
    protected Task RefreshNowAsync()
    {
        _refreshPending = false;
        _lastRefresh = Time.GetUtcNow();
        return RefreshViewAsync();
    }

    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var batch in Feed.SubscribeAsync(cancellationToken).WithCancellation(cancellationToken))
            {
                await InvokeAsync(() => OnBatchAsync(batch));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Disposed: the page is gone.
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            await DispatchExceptionAsync(e);
        }
    }

    private Task OnBatchAsync(FeedBatch batch)
    {
        if (_disposed)
        {
            return Task.CompletedTask;
        }

        var now = Time.GetUtcNow();
        if (!ApplyBatch(batch, now))
        {
            return Task.CompletedTask;
        }

        if (IsDue(now, MinRefreshInterval))
        {
            return RefreshNowAsync();
        }

        _refreshPending = true;
        return Task.CompletedTask;
    }

    /// <summary>An interval since the last refresh is over, or the wall clock was set back (then it is due now).</summary>
    private bool IsDue(DateTimeOffset now, TimeSpan interval) => now - _lastRefresh is var since && (since >= interval || since < TimeSpan.Zero);

    private async Task TickAsync()
    {
        if (_disposed)
        {
            return;
        }

        try
        {
            var now = Time.GetUtcNow();
            var changed = OnTick(now);
            var idle = IdleRefreshInterval is { } interval && IsDue(now, interval);
            if (changed || _refreshPending || idle)
            {
                await RefreshNowAsync();
            }
        }
        catch (Exception e)
        {
            await DispatchExceptionAsync(e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _stop.CancelAsync();
        if (_ticker is not null)
        {
            await _ticker.DisposeAsync();
        }

        await _watch;
        _stop.Dispose();
        OnDisposing();
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what a page added (event handlers), once the watch loop has ended.</summary>
    protected virtual void OnDisposing()
    {
    }
}
