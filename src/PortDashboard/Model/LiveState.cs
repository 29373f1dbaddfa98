namespace PortDashboard.Model;

/// <summary>
/// Whether this browser tab's live view is paused. One per circuit: the layout creates it and cascades it, the
/// Connections page sets it, the header shows it.
/// </summary>
public sealed class LiveState
{
    public bool IsPaused { get; private set; }

    /// <summary>Raised on the renderer's thread when <see cref="IsPaused"/> changes.</summary>
    public event Action? Changed;

    public void SetPaused(bool paused)
    {
        if (paused == IsPaused)
        {
            return;
        }

        IsPaused = paused;
        Changed?.Invoke();
    }
}
