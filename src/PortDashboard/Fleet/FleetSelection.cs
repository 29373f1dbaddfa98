using System.Collections.Immutable;
using PortDashboard.Core.Filtering;

namespace PortDashboard.Fleet;

/// <summary>
/// Which table a page shows for a filter's <c>host=</c>: this node's own (no <c>host=</c>, only this node's name, or
/// no fleet configured: exactly the standalone pages), or the fleet hosts it names from the <see cref="FleetStore"/>
/// (<c>host=*</c> for every one). <see cref="Missing"/> are the names asked for that the fleet does not hold.
/// </summary>
public sealed record FleetSelection(bool IsFleet, ImmutableArray<FleetHost> Hosts, ImmutableArray<string> Missing)
{
    public static readonly FleetSelection Local = new(false, [], []);

    /// <summary>More than one host can be in view: the pages add a Host column.</summary>
    public bool ShowsHostColumn => IsFleet && (Hosts.Length > 1 || Missing.Length + Hosts.Length > 1);

    /// <summary>Some host in view is not online: its rows are its last known table, never live.</summary>
    public bool AnyStale => Hosts.Any(h => !h.IsLive);

    public static FleetSelection Of(Filter filter, FleetStore? store, string localHost)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (store is null || filter.Hosts.IsEmpty
            || (!filter.SelectsAllHosts && filter.Hosts.All(h => string.Equals(h, localHost, StringComparison.OrdinalIgnoreCase))))
        {
            return Local;
        }

        var hosts = store.Hosts.Values.Where(h => filter.MatchesHost(h.Name)).ToImmutableArray();
        var missing = filter.SelectsAllHosts
            ? []
            : filter.Hosts.Where(n => !hosts.Any(h => string.Equals(h.Name, n, StringComparison.OrdinalIgnoreCase))).ToImmutableArray();
        return new FleetSelection(true, hosts, missing);
    }

    /// <summary>What the page says above its rows about the hosts in view (null when all are online and found).</summary>
    public string? Notice
    {
        get
        {
            if (!IsFleet)
            {
                return null;
            }

            var parts = new List<string>();
            if (Hosts.IsEmpty && Missing.IsEmpty)
            {
                parts.Add("No host publishes to this fleet yet.");
            }

            if (!Missing.IsEmpty)
            {
                parts.Add($"No host named {string.Join(", ", Missing)} in the fleet.");
            }

            var stale = Hosts.Where(h => !h.IsLive).Select(h => $"{h.Name} ({h.Status.ToString().ToLowerInvariant()})").ToList();
            if (stale.Count > 0)
            {
                parts.Add($"Not live: {string.Join(", ", stale)}; their rows are the last known table, marked stale.");
            }

            return parts.Count == 0 ? null : string.Join(" ", parts);
        }
    }
}
