using System.Collections.Concurrent;

namespace PortDashboard.Core.Sockets;

/// <summary>When the service first saw a socket, and whether it was already open when the service started.</summary>
/// <param name="FirstSeen">The time of the first snapshot that held the socket.</param>
/// <param name="SeenAtStart">
/// The socket was in the service's first snapshot: it was open before the service looked, so its real age is at
/// least the age since <paramref name="FirstSeen"/> (shown as "≥").
/// </param>
public readonly record struct SocketAge(DateTimeOffset FirstSeen, bool SeenAtStart);

/// <summary>
/// First-seen times of the open sockets, kept by the one writer that publishes snapshots (<see cref="Record"/>, in
/// time proportional to the churn) and read by any thread: pages, the API and the hub all give a socket the same
/// age, counted from when the service saw it, not from when the reader started looking.
/// </summary>
public sealed class SocketAges
{
    private readonly ConcurrentDictionary<SocketKey, SocketAge> _ages = new();
    private readonly Lock _start = new();
    private Dictionary<SocketKey, DateTimeOffset>? _restored;
    private DateTimeOffset? _startedAt;

    /// <summary>The time of the first snapshot recorded; null before it.</summary>
    public DateTimeOffset? StartedAt => _startedAt;

    /// <summary>Sockets tracked (the open ones).</summary>
    public int Count => _ages.Count;

    /// <summary>
    /// Takes in <paramref name="delta"/>, which leads to <paramref name="snapshot"/>. The first call takes every socket
    /// of the snapshot as seen at start; later ones add what the delta added and forget what it removed.
    /// </summary>
    public void Record(Snapshot snapshot, Delta delta)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(delta);
        if (_startedAt is null)
        {
            lock (_start)
            {
                foreach (var socket in snapshot.Sockets)
                {
                    _ages[socket.Key] = new SocketAge(Earliest(socket.Key, snapshot.TakenAt, _restored), SeenAtStart: true);
                }

                _restored = null;
                _startedAt = snapshot.TakenAt;
            }

            return;
        }

        foreach (var socket in delta.Removed)
        {
            _ages.TryRemove(socket.Key, out _);
        }

        foreach (var socket in delta.Added)
        {
            _ages.TryAdd(socket.Key, new SocketAge(delta.TakenAt, SeenAtStart: false));
        }

        // A changed socket keeps its key and so its age; one the service never recorded (it cannot happen unless
        // deltas were skipped) is taken as new from now.
        foreach (var change in delta.Changed)
        {
            _ages.TryAdd(change.After.Key, new SocketAge(delta.TakenAt, SeenAtStart: false));
        }
    }

    public bool TryGet(SocketKey key, out SocketAge age) => _ages.TryGetValue(key, out age);

    /// <summary>
    /// Takes the first-seen times a previous run of the service kept (its history of the sockets it left open), so
    /// a socket open across a restart keeps the time it was first seen, not the restart's. Only sockets of this run's
    /// first snapshot take one, and only an earlier time; they stay <see cref="SocketAge.SeenAtStart"/> (this run did
    /// not see them open). Called before or after the first snapshot, from any thread.
    /// </summary>
    public void Restore(IEnumerable<KeyValuePair<SocketKey, DateTimeOffset>> firstSeen)
    {
        ArgumentNullException.ThrowIfNull(firstSeen);
        lock (_start)
        {
            if (_startedAt is null)
            {
                _restored ??= [];
                foreach (var (key, at) in firstSeen)
                {
                    _restored[key] = _restored.TryGetValue(key, out var known) && known < at ? known : at;
                }

                return;
            }
        }

        // After the first snapshot: only the publishing thread adds or removes, so a value read here is replaced
        // only if it is still the one read.
        foreach (var (key, at) in firstSeen)
        {
            if (_ages.TryGetValue(key, out var age) && age.SeenAtStart && at < age.FirstSeen)
            {
                _ages.TryUpdate(key, age with { FirstSeen = at }, age);
            }
        }
    }

    private static DateTimeOffset Earliest(SocketKey key, DateTimeOffset seen, Dictionary<SocketKey, DateTimeOffset>? restored) =>
        restored is not null && restored.TryGetValue(key, out var before) && before < seen ? before : seen;
}
