using System.Collections.Immutable;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Model;

/// <summary>
/// One way to group the Connections page's rows: its URL value (<c>group=process</c>), its label, and the key of a
/// row. Grouping is generic over <see cref="KeyOf"/>: a new grouping is one more entry in <see cref="All"/>.
/// </summary>
/// <param name="QueryValue">The value of the page's <c>group</c> URL parameter.</param>
/// <param name="Title">The choice's label and the key column's heading.</param>
/// <param name="KeyOf">A row's group; rows with equal keys (ordinal) are one group.</param>
public sealed record SocketGrouping(string QueryValue, string Title, Func<SocketRow, string> KeyOf)
{
    /// <summary>Rows with no process (TIME_WAIT, another user's process): their own group.</summary>
    public const string NoProcess = "(no process)";

    /// <summary>Rows whose owner runs in no known container or unit (the host's own processes, TIME_WAIT on the host).</summary>
    public const string NoContainer = "(no container)";

    public static readonly SocketGrouping Process = new("process", "Process", static row => row.Socket.Owners.IsEmpty ? NoProcess : row.ProcessName);

    public static readonly SocketGrouping RemoteAddress = new("remote", "Remote address", static row => row.HasRemote ? row.RemoteAddress : "*");

    public static readonly SocketGrouping LocalPort = new("localport", "Local port", static row => row.LocalPort.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The owner's container or systemd unit (from its cgroup), else the namespace's container.</summary>
    public static readonly SocketGrouping Container = new("container", "Container", static row => row.Container.Length == 0 ? NoContainer : row.Container);

    /// <summary>Every grouping the page offers, in the order it offers them.</summary>
    public static ImmutableArray<SocketGrouping> All { get; } = [Process, RemoteAddress, LocalPort, Container];

    /// <summary>The grouping named by a <c>group</c> URL value (case-insensitive); false for an unknown one.</summary>
    public static bool TryParse(string? value, out SocketGrouping? grouping)
    {
        grouping = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            return true; // no grouping
        }

        grouping = All.FirstOrDefault(g => string.Equals(g.QueryValue, value.Trim(), StringComparison.OrdinalIgnoreCase));
        return grouping is not null;
    }

    /// <summary>The words naming every value, for a message about an unknown one.</summary>
    public static string Expected => string.Join(", ", All.Select(g => g.QueryValue));

    /// <summary>
    /// The groups of <paramref name="rows"/> (already filtered and sorted; each group keeps their order), largest first,
    /// then by key; removed rows still shown (fading out) are left out of the counts, as the summary cards do.
    /// </summary>
    public IReadOnlyList<SocketGroup> Group(IReadOnlyList<SocketRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var groups = new Dictionary<string, SocketGroup>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (row.IsRemoved)
            {
                continue;
            }

            var key = KeyOf(row);
            if (!groups.TryGetValue(key, out var group))
            {
                groups[key] = group = new SocketGroup(key);
            }

            group.Add(row);
        }

        var ordered = groups.Values.ToList();
        ordered.Sort(static (a, b) => a.Total != b.Total ? b.Total.CompareTo(a.Total) : string.CompareOrdinal(a.Key, b.Key));
        return ordered;
    }
}

/// <summary>The rows of one group and their counts by state.</summary>
public sealed class SocketGroup(string key)
{
    private readonly List<SocketRow> _rows = [];

    public string Key { get; } = key;

    public IReadOnlyList<SocketRow> Rows => _rows;

    public int Established { get; private set; }

    /// <summary>TCP listeners and UDP sockets bound to a port with no peer (UDP's listeners), as on the summary cards.</summary>
    public int Listen { get; private set; }

    public int TimeWait { get; private set; }

    public int Other { get; private set; }

    public int Total => _rows.Count;

    internal void Add(SocketRow row)
    {
        _rows.Add(row);
        switch (row.State)
        {
            case SocketState.Established:
                Established++;
                break;
            case SocketState.Listen:
            case SocketState.Unconnected when row.Socket.Local.Port != 0:
                Listen++;
                break;
            case SocketState.TimeWait:
                TimeWait++;
                break;
            default:
                Other++;
                break;
        }
    }
}
