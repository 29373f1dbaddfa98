using PortDashboard.Core.Sockets;
using PortDashboard.Insight.ShortLived;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Insight.History;

/// <summary>
/// Turns the feed into history: a birth per socket that appears, a death (with its final state) per socket that goes,
/// a short-lived row per socket seen only closing. Row numbers are given here, so nothing waits for the database.
/// At the first snapshot it carries on from what the previous run left: a socket still open keeps its row (and its
/// birth); one that went while nobody watched dies at the previous run's last poll. Used by the insight loop only.
/// </summary>
/// <param name="ages">
/// The feed's first-seen times. A birth is stamped with the socket's first-seen time from there, not with the
/// snapshot the recorder happened to get it in (the insight loop starts a poll or more after the feed, and a resync
/// finds sockets late), so the live age and the history's birth are one time, before and after a restart.
/// </param>
internal sealed class HistoryRecorder(HistoryWriter writer, HistoryResume resume, SocketAges? ages = null)
{
    private readonly AliveSockets _alive = new();
    private long _nextId = resume.NextId;
    private bool _started;

    /// <summary>Sockets alive now, as the recorder knows them.</summary>
    public int AliveCount => _alive.Count;

    /// <param name="snapshot">The latest snapshot.</param>
    /// <param name="deltas">The deltas that lead to it, in order; ignored for a <paramref name="resync"/>.</param>
    /// <param name="resync">Whether to compare the snapshot with what is known instead (deltas were missed).</param>
    /// <param name="shortLived">Sockets seen only closing since the previous poll.</param>
    public async ValueTask ApplyAsync(Snapshot snapshot, IReadOnlyList<Delta> deltas, bool resync, IReadOnlyList<ClosedSocket> shortLived, CancellationToken cancellationToken)
    {
        if (!_started)
        {
            await StartAsync(snapshot, cancellationToken);
        }
        else if (resync)
        {
            await ReconcileAsync(snapshot, cancellationToken);
        }
        else
        {
            foreach (var delta in deltas)
            {
                foreach (var socket in delta.Added)
                {
                    await BornAsync(socket, HistoryKind.Opened, delta.TakenAt, cancellationToken);
                }

                foreach (var socket in delta.Removed)
                {
                    await DiedAsync(socket.Key, socket, delta.TakenAt, cancellationToken);
                }

                foreach (var change in delta.Changed)
                {
                    if (_alive.TryGetValue(change.After.Key, out var alive))
                    {
                        _alive.Set(change.After.Key, alive with { Latest = change.After });
                    }
                }
            }
        }

        foreach (var closed in shortLived)
        {
            await writer.EnqueueAsync(
                new InsertSocketOp(_nextId++, HistoryKind.ShortLived, closed.Socket, closed.Owner, closed.OwnerSource, closed.SeenAt, closed.SeenAt),
                cancellationToken);
        }

        await writer.EnqueueAsync(new HeartbeatOp(snapshot.TakenAt), cancellationToken);
    }

    private async ValueTask StartAsync(Snapshot snapshot, CancellationToken cancellationToken)
    {
        _started = true;
        var open = resume.OpenRows.ToDictionary(row => row.Key);
        foreach (var socket in snapshot.Sockets)
        {
            if (open.Remove(socket.Key, out var row))
            {
                _alive.Set(socket.Key, new Alive(row.Id, socket, OwnerKnown: true)); // still open: the same life goes on
            }
            else
            {
                await BornAsync(socket, HistoryKind.OpenAtStart, snapshot.TakenAt, cancellationToken);
            }
        }

        // Gone while nobody watched: at or before the previous run's last poll.
        var diedAt = resume.LastHeartbeat ?? snapshot.TakenAt;
        foreach (var row in open.Values)
        {
            await writer.EnqueueAsync(new CloseSocketOp(row.Id, diedAt, row.State, null, Unwatched: true), cancellationToken);
        }
    }

    private async ValueTask ReconcileAsync(Snapshot snapshot, CancellationToken cancellationToken)
    {
        foreach (var alive in _alive.All().Where(alive => !snapshot.TryGet(alive.Latest.Key, out _)).ToList())
        {
            await DiedAsync(alive.Latest.Key, alive.Latest, snapshot.TakenAt, cancellationToken);
        }

        foreach (var socket in snapshot.Sockets)
        {
            if (_alive.TryGetValue(socket.Key, out var alive))
            {
                _alive.Set(socket.Key, alive with { Latest = socket });
            }
            else
            {
                await BornAsync(socket, HistoryKind.Opened, snapshot.TakenAt, cancellationToken);
            }
        }
    }

    private ValueTask BornAsync(Socket socket, HistoryKind kind, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (ages is not null && ages.TryGet(socket.Key, out var age) && age.FirstSeen <= at)
        {
            // The feed knows whether it saw the socket open or found it open when it started watching.
            at = age.FirstSeen;
            kind = age.SeenAtStart ? HistoryKind.OpenAtStart : HistoryKind.Opened;
        }

        if (!_alive.TryAdd(socket.Key, new Alive(_nextId, socket, OwnerKnown: !socket.Owners.IsEmpty)))
        {
            return ValueTask.CompletedTask; // already alive (two sockets with one key in a snapshot: the kernel's, not ours)
        }

        var owner = socket.Owners.IsEmpty ? null : socket.Owners[0];
        return writer.EnqueueAsync(
            new InsertSocketOp(_nextId++, kind, socket, owner, owner is null ? OwnerSource.None : OwnerSource.Seen, at, null),
            cancellationToken);
    }

    private ValueTask DiedAsync(SocketKey key, Socket last, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (!_alive.Remove(key, out var alive))
        {
            return ValueTask.CompletedTask;
        }

        // Attribution can come a poll late: record the owner learnt since birth.
        var latest = alive.Latest.Owners.IsEmpty ? last : alive.Latest;
        var lateOwner = !alive.OwnerKnown && !latest.Owners.IsEmpty ? latest.Owners[0] : null;
        return writer.EnqueueAsync(new CloseSocketOp(alive.Id, at, last.State, lateOwner, Unwatched: false), cancellationToken);
    }

    /// <param name="Id">The row.</param>
    /// <param name="Latest">The socket as last seen (state, owners).</param>
    /// <param name="OwnerKnown">Whether the row has an owner already.</param>
    private readonly record struct Alive(long Id, Socket Latest, bool OwnerKnown);

    /// <summary>
    /// The sockets alive, by key, stored by inode where they have one (a long key: at 100,000 sockets a dictionary keyed
    /// by the 80-byte <see cref="SocketKey"/> took 17.5 MB). A socket whose inode another key holds (a UDP socket that
    /// connected: a new key, the same inode, born before the old key dies) waits in the keyed dictionary.
    /// </summary>
    private sealed class AliveSockets
    {
        private readonly Dictionary<long, Alive> _byInode = [];
        private readonly Dictionary<SocketKey, Alive> _byKey = [];

        public int Count => _byInode.Count + _byKey.Count;

        public bool TryGetValue(SocketKey key, out Alive alive)
        {
            if (key.Inode != 0 && _byInode.TryGetValue(key.Inode, out alive) && alive.Latest.Key == key)
            {
                return true;
            }

            return _byKey.TryGetValue(key, out alive);
        }

        public bool TryAdd(SocketKey key, Alive alive)
        {
            if (TryGetValue(key, out _))
            {
                return false;
            }

            if (key.Inode == 0 || !_byInode.TryAdd(key.Inode, alive))
            {
                _byKey.Add(key, alive);
            }

            return true;
        }

        /// <summary>Adds or replaces.</summary>
        public void Set(SocketKey key, Alive alive)
        {
            if (key.Inode != 0 && _byInode.TryGetValue(key.Inode, out var there) && there.Latest.Key == key)
            {
                _byInode[key.Inode] = alive;
            }
            else if (_byKey.ContainsKey(key) || !TryAdd(key, alive))
            {
                _byKey[key] = alive;
            }
        }

        public bool Remove(SocketKey key, out Alive alive)
        {
            if (key.Inode != 0 && _byInode.TryGetValue(key.Inode, out alive) && alive.Latest.Key == key)
            {
                _byInode.Remove(key.Inode);
                return true;
            }

            return _byKey.Remove(key, out alive);
        }

        public IEnumerable<Alive> All() => _byInode.Values.Concat(_byKey.Values);
    }
}
