using Microsoft.AspNetCore.Components;
using PortDashboard.Insight;

namespace PortDashboard.Components.Controls.Insight;

/// <summary>
/// A page or control that shows <see cref="InsightState"/>. The insight loop publishes after each poll; this re-renders
/// at the next re-check of <see cref="FeedStatusComponent"/> (once a second, on the injected <see cref="TimeProvider"/>)
/// when something was published meanwhile, never once per publish.
/// </summary>
public abstract class InsightComponent : FeedStatusComponent
{
    private int _pending;

    [Inject]
    protected InsightState Insight { get; set; } = default!;

    protected override void OnInitialized()
    {
        base.OnInitialized();
        Insight.Changed += OnChanged;
    }

    protected override bool Observe(DateTimeOffset now) => Interlocked.Exchange(ref _pending, 0) == 1 && OnInsightChanged();

    /// <summary>Called on the renderer's thread when new insight was published; returns whether to render.</summary>
    protected virtual bool OnInsightChanged() => true;

    private void OnChanged() => Interlocked.Exchange(ref _pending, 1);

    protected override void OnDisposing() => Insight.Changed -= OnChanged;
}
