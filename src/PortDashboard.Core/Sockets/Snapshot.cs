using System.Collections.Immutable;
using PortDashboard.Core.Ports;

namespace PortDashboard.Core.Sockets;

/// <summary>An immutable, complete socket table at one instant, with how it was taken.</summary>
public sealed class Snapshot
{
    private readonly Dictionary<SocketKey, Socket> _byKey;

    public Snapshot(
        ImmutableArray<Socket> sockets,
        DateTimeOffset takenAt,
        TimeSpan duration,
        string reader,
        AttributionStatus attribution,
        OsPortPolicy portPolicy,
        string hostName,
        int malformedLines = 0)
    {
        // A dump is not atomic: under churn the kernel can list one socket twice. The table keeps the first.
        (Sockets, _byKey) = Deduplicate(sockets.IsDefault ? [] : sockets);
        TakenAt = takenAt;
        Duration = duration;
        Reader = reader;
        Attribution = attribution;
        PortPolicy = portPolicy;
        HostName = hostName;
        MalformedLines = malformedLines;
    }

    public static Snapshot Empty { get; } = new(
        [], DateTimeOffset.UnixEpoch, TimeSpan.Zero, "none",
        AttributionStatus.Unavailable("no snapshot yet"), OsPortPolicy.LinuxDefault, Environment.MachineName);

    public ImmutableArray<Socket> Sockets { get; }

    public DateTimeOffset TakenAt { get; }

    /// <summary>How long reading and attributing took.</summary>
    public TimeSpan Duration { get; }

    /// <summary>Which reader produced the table (e.g. <c>proc-net</c>, <c>netlink</c>, <c>portable</c>).</summary>
    public string Reader { get; }

    public AttributionStatus Attribution { get; }

    public OsPortPolicy PortPolicy { get; }

    public string HostName { get; }

    /// <summary>Lines of the kernel's tables that could not be parsed and were skipped.</summary>
    public int MalformedLines { get; }

    public int Count => Sockets.Length;

    /// <summary>The sockets by key (diffing, lookups).</summary>
    public IReadOnlyDictionary<SocketKey, Socket> ByKey => _byKey;

    public bool TryGet(SocketKey key, out Socket socket) => _byKey.TryGetValue(key, out socket!);

    private static (ImmutableArray<Socket> Sockets, Dictionary<SocketKey, Socket> ByKey) Deduplicate(ImmutableArray<Socket> sockets)
    {
        var index = new Dictionary<SocketKey, Socket>(sockets.Length);
        foreach (var socket in sockets)
        {
            index.TryAdd(socket.Key, socket);
        }

        if (index.Count == sockets.Length)
        {
            return (sockets, index);
        }

        // Keep each key's first occurrence (the one the index holds). The same instance may also be listed twice,
        // since unchanged sockets are reused from the previous snapshot: compare keys, not references.
        var unique = ImmutableArray.CreateBuilder<Socket>(index.Count);
        var emitted = new HashSet<SocketKey>(index.Count);
        foreach (var socket in sockets)
        {
            if (emitted.Add(socket.Key))
            {
                unique.Add(socket);
            }
        }

        return (unique.MoveToImmutable(), index);
    }
}
