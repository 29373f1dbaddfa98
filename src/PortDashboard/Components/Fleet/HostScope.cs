using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Routing;
using PortDashboard.Core.Filtering;
using PortDashboard.Fleet;
using PortDashboard.Monitoring;

namespace PortDashboard.Components.Fleet;

/// <summary>
/// A page's view of the URL's <c>host=</c> and of the fleet: which hosts are in view (<see cref="Selection"/>), kept
/// current as the address changes and as the <see cref="FleetStore"/> changes. The page asks <see cref="Refresh"/> on
/// its own pacing (its tick), so a busy fleet never redraws it more often than its own feed would. Without a fleet
/// there is no store, the selection is always this node's own table, and nothing is subscribed.
/// </summary>
public sealed class HostScope : IDisposable
{
    private readonly NavigationManager _navigation;
    private readonly Action _locationChanged;
    private int _dirty = 1;

    public HostScope(IServiceProvider services, NavigationManager navigation, ISnapshotFeed feed, Action locationChanged)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(feed);
        _navigation = navigation ?? throw new ArgumentNullException(nameof(navigation));
        _locationChanged = locationChanged;
        Store = services.GetService<FleetStore>();
        var identity = services.GetService<FleetIdentity>();
        LocalHost = identity?.HostName ?? feed.Current.HostName;
        Hosts = ParseHosts(_navigation.Uri, out var error);
        Error = error;
        Selection = FleetSelection.Of(Hosts, Store, LocalHost);
        if (Store is not null)
        {
            Store.Changed += OnStoreChanged;
            _navigation.LocationChanged += OnLocationChanged;
        }
    }

    public FleetStore? Store { get; }

    /// <summary>This node's host name: <c>host=</c> naming only it shows the node's own table.</summary>
    public string LocalHost { get; }

    /// <summary>The URL's <c>host=</c> alone, as the one grammar parses it (the page may ignore its other keys).</summary>
    public Filter Hosts { get; private set; }

    /// <summary>Why the URL's <c>host=</c> was ignored, or null.</summary>
    public FilterException? Error { get; private set; }

    public FleetSelection Selection { get; private set; }

    /// <summary>The fleet hosts in view for a page title ("all hosts" for <c>host=*</c>); null on this node's own table.</summary>
    public string? TitleHosts => !Selection.IsFleet ? null
        : Hosts.SelectsAllHosts ? "all hosts" : string.Join(", ", Selection.Hosts.Select(h => h.Name));

    /// <summary>Re-reads the store when it changed since the last call; whether the selection is a new one.</summary>
    public bool Refresh()
    {
        if (Store is null || Interlocked.Exchange(ref _dirty, 0) == 0)
        {
            return false;
        }

        var selection = FleetSelection.Of(Hosts, Store, LocalHost);
        var changed = selection.IsFleet || Selection.IsFleet;
        Selection = selection;
        return changed;
    }

    /// <summary>The <c>host</c> key of a URL as a filter; a bad value is reported and selects this node's table.</summary>
    internal static Filter ParseHosts(string uri, out FilterException? error)
    {
        // Only the host pairs, still encoded, through the one grammar: the page's other keys are its own business.
        var pairs = new Uri(uri).Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Where(p => string.Equals(Uri.UnescapeDataString(p[0]), "host", StringComparison.OrdinalIgnoreCase))
            .Select(p => new KeyValuePair<string, string>("host", p.Length > 1 ? p[1] : ""))
            .ToList();
        error = null;
        try
        {
            return pairs.Count == 0 ? Filter.Empty : Filter.Parse(pairs);
        }
        catch (FilterException e)
        {
            error = e;
            return Filter.Empty;
        }
    }

    private void OnStoreChanged() => Volatile.Write(ref _dirty, 1);

    private void OnLocationChanged(object? sender, LocationChangedEventArgs e)
    {
        var hosts = ParseHosts(e.Location, out var error);
        if (hosts.Equals(Hosts) && error?.Message == Error?.Message)
        {
            return;
        }

        (Hosts, Error) = (hosts, error);
        Volatile.Write(ref _dirty, 1);
        _locationChanged();
    }

    public void Dispose()
    {
        if (Store is not null)
        {
            Store.Changed -= OnStoreChanged;
            _navigation.LocationChanged -= OnLocationChanged;
        }
    }
}
