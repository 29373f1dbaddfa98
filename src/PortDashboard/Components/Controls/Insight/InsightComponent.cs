using Microsoft.AspNetCore.Components;
using PortDashboard.Insight;

namespace PortDashboard.Components.Controls.Insight;

/// <summary>
/// A page or control that shows <see cref="InsightState"/>: it re-renders when the insight loop publishes, at most
/// every <see cref="MinRefreshInterval"/> (a change arriving sooner is shown by the next tick of a timer on the
/// injected <see cref="TimeProvider"/>). Handlers are removed on disposal.
/// </summary>
public abstract class InsightComponent : ComponentBase, IAsyncDisposable
{
    /// <summary>The shortest time between two refreshes: at most two a second.</summary>
    public static readonly TimeSpan MinRefreshInterval = TimeSpan.FromMilliseconds(500);

    private ITimer? _ticker;
    private int _pending;
    private bool _disposed;

    [Inject]
    protected InsightState Insight { get; set; } = default!;

    [Inject]
    protected TimeProvider Time { get; set; } = default!;

    protected override void OnInitialized()
    {
        Insight.Changed += OnChanged;
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender && !_disposed)
        {
            _ticker = Time.CreateTimer(_ => _ = InvokeAsync(TickAsync), null, MinRefreshInterval, MinRefreshInterval);
        }
    }

    /// <summary>Called on the renderer's thread before a refresh caused by new insight; returns whether to render.</summary>
    protected virtual bool OnInsightChanged() => true;

    private void OnChanged() => Interlocked.Exchange(ref _pending, 1);

    private async Task TickAsync()
    {
        if (_disposed || Interlocked.Exchange(ref _pending, 0) == 0)
        {
            return;
        }

        try
        {
            if (OnInsightChanged())
            {
                StateHasChanged();
            }
        }
        catch (Exception e)
        {
            await DispatchExceptionAsync(e);
        }
    }

    /// <summary>Releases what a component added.</summary>
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
        Insight.Changed -= OnChanged;
        OnDisposing();
        if (_ticker is not null)
        {
            await _ticker.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}
