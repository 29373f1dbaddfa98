using Microsoft.AspNetCore.Components;
using PortDashboard.Fleet;

namespace PortDashboard.Components.Fleet;

/// <summary>
/// A component that shows the fleet: redraws (at most every <see cref="RedrawInterval"/>) after the consumer changed
/// anything. Without <c>PortDashboard:Fleet:Redis</c> there is no store and <see cref="Store"/> is null.
/// </summary>
public abstract class FleetComponent : ComponentBase, IDisposable
{
    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(250);

    private long _lastDrawn = -1;
    private int _pending;

    [Inject]
    private IServiceProvider Services { get; set; } = default!;

    protected FleetStore? Store { get; private set; }

    protected FleetConnection? Connection { get; private set; }

    protected override void OnInitialized()
    {
        Store = Services.GetService<FleetStore>();
        Connection = Services.GetService<FleetConnection>();
        if (Store is not null)
        {
            Store.Changed += OnChanged;
        }
    }

    private void OnChanged()
    {
        if (Interlocked.Exchange(ref _pending, 1) == 1)
        {
            return;
        }

        _ = InvokeAsync(async () =>
        {
            await Task.Delay(RedrawInterval);
            Volatile.Write(ref _pending, 0);
            if (Store is { } store && store.Version != _lastDrawn)
            {
                _lastDrawn = store.Version;
                OnFleetChanged();
                StateHasChanged();
            }
        });
    }

    /// <summary>Called on the renderer before a redraw caused by the fleet.</summary>
    protected virtual void OnFleetChanged()
    {
    }

    /// <summary>Called when the component goes away, after it stopped listening to the store.</summary>
    protected virtual void OnDisposing()
    {
    }

    public void Dispose()
    {
        if (Store is not null)
        {
            Store.Changed -= OnChanged;
        }

        OnDisposing();
        GC.SuppressFinalize(this);
    }
}
