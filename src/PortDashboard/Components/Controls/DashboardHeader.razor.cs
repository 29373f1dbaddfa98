using Microsoft.AspNetCore.Components;
using PortDashboard.Core.Ports;
using PortDashboard.Model;

namespace PortDashboard.Components.Controls;

/// <summary>The app bar's facts: host name, OS ephemeral range and privileged threshold, poll interval, live/paused.</summary>
public partial class DashboardHeader
{
    private string _host = "";
    private OsPortPolicy _policy = OsPortPolicy.LinuxDefault;
    private TimeSpan _interval;
    private bool _failing;

    [CascadingParameter]
    public LiveState? Live { get; set; }

    private LiveState? _subscribed;

    private bool Paused => Live?.IsPaused == true;

    private string LiveText => _failing ? "Stale" : Paused ? "Paused" : "Live";

    private string LiveClass => "live-state " + (_failing ? "live-stale" : Paused ? "live-paused" : "live-on");

    private string LiveTitle => _failing
        ? "Reading the socket table is failing: the page shows the last good snapshot"
        : Paused ? "Updates are paused on this page" : "The tables follow the socket table as it changes";

    protected override void OnParametersSet()
    {
        if (!ReferenceEquals(_subscribed, Live))
        {
            if (_subscribed is not null)
            {
                _subscribed.Changed -= OnLiveChanged;
            }

            _subscribed = Live;
            if (_subscribed is not null)
            {
                _subscribed.Changed += OnLiveChanged;
            }
        }
    }

    protected override bool Observe(DateTimeOffset now)
    {
        var snapshot = Feed.Current;
        var status = Feed.Status;
        var changed = _host != snapshot.HostName || !Equals(_policy, snapshot.PortPolicy)
            || _interval != status.PollInterval || _failing != status.IsFailing;
        (_host, _policy, _interval, _failing) = (snapshot.HostName, snapshot.PortPolicy, status.PollInterval, status.IsFailing);
        return changed;
    }

    private void OnLiveChanged() => StateHasChanged();

    protected override void OnDisposing()
    {
        if (_subscribed is not null)
        {
            _subscribed.Changed -= OnLiveChanged;
        }
    }
}
