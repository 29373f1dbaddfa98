using Microsoft.AspNetCore.Components;
using PortDashboard.Monitoring;

namespace PortDashboard.Components;

/// <summary>
/// A small control that shows the snapshot service's status (header, failure banner). It re-renders only when what
/// it shows changes: on <see cref="ISnapshotFeed.StatusChanged"/>, and once a second for what depends on time.
/// </summary>
public abstract class FeedStatusComponent : ComponentBase, IAsyncDisposable
{
    private static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(1);
    private ITimer? _ticker;
    private bool _disposed;

    [Inject]
    protected ISnapshotFeed Feed { get; set; } = default!;

    [Inject]
    protected TimeProvider Time { get; set; } = default!;

    /// <summary>Reads the feed into the fields the markup shows; returns whether they changed.</summary>
    protected abstract bool Observe(DateTimeOffset now);

    protected override void OnInitialized()
    {
        Observe(Time.GetUtcNow());
        Feed.StatusChanged += OnStatusChanged;
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender && !_disposed)
        {
            _ticker = Time.CreateTimer(_ => _ = InvokeAsync(RecheckAsync), null, RecheckInterval, RecheckInterval);
        }
    }

    private void OnStatusChanged(SnapshotServiceStatus status) => _ = InvokeAsync(RecheckAsync);

    private async Task RecheckAsync()
    {
        if (_disposed)
        {
            return;
        }

        try
        {
            if (Observe(Time.GetUtcNow()))
            {
                StateHasChanged();
            }
        }
        catch (Exception e)
        {
            await DispatchExceptionAsync(e);
        }
    }

    /// <summary>Releases what a control added (event handlers).</summary>
    protected virtual void OnDisposing()
    {
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Feed.StatusChanged -= OnStatusChanged;
        OnDisposing();
        if (_ticker is not null)
        {
            await _ticker.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}
