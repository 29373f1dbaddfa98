using System.Collections.Immutable;
using PortDashboard.Core.Ports;

namespace PortDashboard.Core.Sockets;

/// <summary>An immutable, complete socket table at one instant, with how it was taken.</summary>
public sealed class Snapshot
{
    // Sockets with a file are indexed by inode (unique among live sockets, and a long hashes fast); the others (TIME_WAIT,
    // orphans: inode 0) by their whole key. A lookup by key checks the whole key either way. Each index is split into
    // shards small enough to stay under the runtime's 85,000-byte large-object threshold: a snapshot a second, at 100k
    // sockets, made about 6 MB of index arrays on the large object heap, which only a gen-2 collection returns.
    private readonly Dictionary<long, Socket>[] _byInode;
    private readonly Dictionary<SocketKey, Socket>[] _withoutInode;

    /// <summary>
    /// Entries per shard at most (24 bytes each by inode, 96 by key): a shard sized with 10% slack, even doubled by an
    /// uneven spread, stays under 85,000 bytes.
    /// </summary>
    private const int InodesPerShard = 1536;
    private const int KeysPerShard = 384;

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
        (Sockets, _byInode, _withoutInode) = Index(sockets.IsDefault ? [] : sockets);
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

    /// <summary>
    /// Each TCP connection's bytes/s since the previous snapshot, from the tcp_info counters (set by the snapshotter;
    /// <see cref="TrafficRates.Unknown"/> for a snapshot built otherwise, or the first one).
    /// </summary>
    public TrafficRates Traffic { get; init; } = TrafficRates.Unknown;

    /// <summary>Lines of the kernel's tables that could not be parsed and were skipped.</summary>
    public int MalformedLines { get; }

    public int Count => Sockets.Length;

    /// <summary>The socket with this key, if the table holds it.</summary>
    public bool TryGet(SocketKey key, out Socket socket)
    {
        if (key.Inode != 0)
        {
            return ByInode(key.Inode).TryGetValue(key.Inode, out socket!) && socket.Key == key;
        }

        return WithoutInode(key).TryGetValue(key, out socket!);
    }

    /// <summary>
    /// This table's instance of <paramref name="other"/>: the socket with the same key (protocol, endpoints, inode),
    /// whatever its state and owners. Faster than <see cref="TryGet(SocketKey, out Socket)"/> for a socket at hand.
    /// </summary>
    public bool TryGet(Socket other, out Socket socket)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Inode != 0)
        {
            return ByInode(other.Inode).TryGetValue(other.Inode, out socket!) && (ReferenceEquals(socket, other) || SameKey(socket, other));
        }

        var key = other.Key;
        return WithoutInode(key).TryGetValue(key, out socket!);
    }

    /// <summary>Whether the table holds a socket with this key.</summary>
    public bool Contains(SocketKey key) => TryGet(key, out _);

    /// <summary>Whether the table holds a socket with <paramref name="other"/>'s key.</summary>
    public bool Contains(Socket other) => TryGet(other, out _);

    private Dictionary<long, Socket> ByInode(long inode) => _byInode[(int)(inode & (_byInode.Length - 1))];

    private Dictionary<SocketKey, Socket> WithoutInode(in SocketKey key) => _withoutInode[KeyShard(key, _withoutInode.Length)];

    private static int KeyShard(in SocketKey key, int shards) => (key.Local.Port ^ (key.Remote.Port << 5)) & (shards - 1);

    /// <summary>The shards for <paramref name="count"/> entries at <paramref name="perShard"/> each: a power of two.</summary>
    private static T[] Shards<T>(int count, int perShard, Func<int, T> create)
    {
        var shards = (int)Math.Min(1024, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, (count + perShard - 1) / perShard)));
        var array = new T[shards];
        for (var i = 0; i < shards; i++)
        {
            array[i] = create((count / shards) + (count / shards / 10) + 8);
        }

        return array;
    }

    private static bool SameKey(Socket a, Socket b) =>
        a.Protocol == b.Protocol && a.Local == b.Local && a.Remote == b.Remote && a.Inode == b.Inode
        && a.Namespace.KeyInode == b.Namespace.KeyInode;

    private static (ImmutableArray<Socket> Sockets, Dictionary<long, Socket>[] ByInode, Dictionary<SocketKey, Socket>[] WithoutInode) Index(ImmutableArray<Socket> sockets)
    {
        var withoutInodeCount = 0;
        foreach (var socket in sockets)
        {
            withoutInodeCount += socket.Inode == 0 ? 1 : 0;
        }

        var byInode = Shards(sockets.Length - withoutInodeCount, InodesPerShard, static capacity => new Dictionary<long, Socket>(capacity));
        var withoutInode = Shards(withoutInodeCount, KeysPerShard, static capacity => new Dictionary<SocketKey, Socket>(capacity));
        var duplicates = 0;
        foreach (var socket in sockets)
        {
            bool added;
            if (socket.Inode != 0)
            {
                added = byInode[(int)(socket.Inode & (byInode.Length - 1))].TryAdd(socket.Inode, socket);
            }
            else
            {
                var key = socket.Key;
                added = withoutInode[KeyShard(key, withoutInode.Length)].TryAdd(key, socket);
            }

            duplicates += added ? 0 : 1;
            if (!socket.IsPublished)
            {
                socket.MarkPublished();
            }
        }

        if (duplicates == 0)
        {
            return (sockets, byInode, withoutInode);
        }

        // Keep each socket's first occurrence (the one the index holds). The same instance may also be listed twice,
        // since unchanged sockets are reused from the previous snapshot: compare the indexed instance, by reference.
        var unique = ImmutableArray.CreateBuilder<Socket>(sockets.Length - duplicates);
        var emitted = new HashSet<Socket>(sockets.Length - duplicates, ReferenceEqualityComparer.Instance);
        foreach (var socket in sockets)
        {
            var key = socket.Key;
            var indexed = socket.Inode != 0
                ? byInode[(int)(socket.Inode & (byInode.Length - 1))][socket.Inode]
                : withoutInode[KeyShard(key, withoutInode.Length)][key];
            if (ReferenceEquals(indexed, socket) && emitted.Add(socket))
            {
                unique.Add(socket);
            }
        }

        return (unique.MoveToImmutable(), byInode, withoutInode);
    }
}
