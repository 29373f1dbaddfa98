using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Routing;
using PortDashboard.Core.Filtering;
using PortDashboard.Fleet;
using PortDashboard.Monitoring;

namespace PortDashboard.Components.Fleet;

/// <summary>
/// Which hosts a page shows: this node's own table (nothing chosen), some fleet hosts, or "All hosts" (<c>host=*</c>).
/// A choice rewrites only the URL's <c>host</c> key, in the one grammar's form, and keeps every other key; the page
/// follows the address. Hidden in standalone mode.
/// </summary>
public partial class HostPicker
{
    private IReadOnlyCollection<string> _selected = [];

    [Inject]
    private ISnapshotFeed Feed { get; set; } = default!;

    [Inject]
    private IServiceProvider ServiceProvider { get; set; } = default!;

    private string LocalHost { get; set; } = "";

    /// <summary>The URL's host choice in canonical form (for tests and the browser test: <c>data-hosts</c>).</summary>
    private string HostQuery => string.Join(',', _selected);

    protected override void OnInitialized()
    {
        base.OnInitialized();
        LocalHost = ServiceProvider.GetService<FleetIdentity>()?.HostName ?? Feed.Current.HostName;
        Read(Navigation.Uri);
        Navigation.LocationChanged += OnLocationChanged;
    }

    private void Read(string uri) => _selected = [.. HostScope.ParseHosts(uri, out _).Hosts];

    private void OnLocationChanged(object? sender, LocationChangedEventArgs e) => _ = InvokeAsync(() =>
    {
        Read(e.Location);
        StateHasChanged();
    });

    private static string Title(string value) => value == Filter.AllHosts ? "All hosts" : value;

    private static string SelectionText(IReadOnlyList<string> values) =>
        values.Contains(Filter.AllHosts) ? "All hosts" : string.Join(", ", values);

    private void OnSelectedChanged(IReadOnlyCollection<string>? values)
    {
        var chosen = values ?? [];
        // "All hosts" chosen now wins over single hosts; a single host chosen after "All hosts" replaces it.
        IEnumerable<string> hosts = chosen.Contains(Filter.AllHosts) && !_selected.Contains(Filter.AllHosts)
            ? [Filter.AllHosts]
            : chosen.Where(v => v != Filter.AllHosts || chosen.Count == 1);
        Navigation.NavigateTo(WithHosts(Navigation.Uri, Filter.Empty with { Hosts = [.. hosts] }));
    }

    /// <summary><paramref name="uri"/> with its <c>host</c> key replaced by <paramref name="hosts"/>' (removed when empty).</summary>
    internal static string WithHosts(string uri, Filter hosts)
    {
        var parsed = new Uri(uri);
        var kept = parsed.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Where(p => !string.Equals(Uri.UnescapeDataString(p.Split('=', 2)[0]), "host", StringComparison.OrdinalIgnoreCase));
        var query = string.Join('&', kept.Append(hosts.ToQueryString()).Where(p => p.Length > 0));
        return parsed.GetLeftPart(UriPartial.Path) + (query.Length == 0 ? "" : "?" + query);
    }

    protected override void OnDisposing() => Navigation.LocationChanged -= OnLocationChanged;
}
