using System.Collections.Immutable;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;
using PortDashboard.Model;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Insight.Listeners;

/// <summary>What a listener is to a person: protocol, bind address, port (a restarted server is the same listener).</summary>
public readonly record struct ListenerId(TransportProtocol Protocol, NetAddress Address, int Port)
{
    public static ListenerId Of(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        return new(socket.Protocol, socket.Local.Address, socket.Local.Port);
    }

    /// <summary>By port, then protocol, then address.</summary>
    public static IComparer<ListenerId> Order { get; } = Comparer<ListenerId>.Create(static (a, b) =>
    {
        var order = a.Port.CompareTo(b.Port);
        if (order == 0) order = a.Protocol.CompareTo(b.Protocol);
        return order == 0 ? a.Address.CompareTo(b.Address) : order;
    });

    /// <summary><c>TCP 0.0.0.0:8080</c>, <c>UDP [::1]:53</c>.</summary>
    public override string ToString() => Protocol.ToDisplayName() + " " + new Core.Sockets.Endpoint(Address, Port).ToString().Replace("*:", Address.IsIPv6 ? "[::]:" : "0.0.0.0:", StringComparison.Ordinal);
}

/// <summary>The two facts that make a listener worth a look.</summary>
/// <param name="InEphemeralRange">Bound inside the OS ephemeral range: the kernel may pick that port for an outgoing connection, which then fails or collides.</param>
/// <param name="Exposed">Bound to every interface: reachable from any network the host is on.</param>
public readonly record struct ListenerFlags(bool InEphemeralRange, bool Exposed)
{
    public static ListenerFlags Of(ListenerId listener, OsPortPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return new(policy.IsOsEphemeral(listener.Port), listener.Address.IsWildcard);
    }
}

/// <summary>A listener now: who holds it and its flags.</summary>
public sealed record ListenerInfo(ListenerId Id, string Owners, ListenerFlags Flags);

public enum ListenerChange : byte
{
    New,
    Gone,
}

/// <summary>A listener that appeared or went away between two polls.</summary>
public sealed record ListenerEvent(DateTimeOffset At, ListenerChange Change, ListenerId Listener, string Owners, ListenerFlags Flags);

/// <summary>The listeners a person saved as normal, to compare with later.</summary>
public sealed record ListenerBaseline(DateTimeOffset SavedAt, ImmutableArray<ListenerInfo> Listeners);

/// <summary>The listener watch as a page shows it.</summary>
/// <param name="Current">The listeners now, by port.</param>
/// <param name="Events">New and gone listeners since start (and before a restart, when history is kept), newest first.</param>
/// <param name="StartedAt">When watching started (the "since start" reference).</param>
/// <param name="NewSinceStart">Listeners now that were not there at start.</param>
/// <param name="GoneSinceStart">Listeners at start that are not there now.</param>
/// <param name="Baseline">The saved baseline, if any.</param>
/// <param name="NewSinceBaseline">Listeners now that the baseline does not have.</param>
/// <param name="GoneSinceBaseline">Listeners of the baseline that are not there now.</param>
public sealed record ListenerView(
    ImmutableArray<ListenerInfo> Current,
    ImmutableArray<ListenerEvent> Events,
    DateTimeOffset? StartedAt,
    ImmutableArray<ListenerInfo> NewSinceStart,
    ImmutableArray<ListenerInfo> GoneSinceStart,
    ListenerBaseline? Baseline,
    ImmutableArray<ListenerInfo> NewSinceBaseline,
    ImmutableArray<ListenerInfo> GoneSinceBaseline)
{
    public static ListenerView Empty { get; } = new([], [], null, [], [], null, [], []);

    public int InEphemeralRange => Current.Count(l => l.Flags.InEphemeralRange);

    public int Exposed => Current.Count(l => l.Flags.Exposed);
}

/// <summary>
/// Follows the set of listeners (TCP LISTEN, bound unconnected UDP) from snapshot to snapshot: each listener that
/// appears or goes raises exactly one event; compares the set with the one at start and with a saved baseline.
/// The insight loop applies snapshots; a page may save the baseline meanwhile (both under one lock).
/// </summary>
public sealed class ListenerWatch
{
    /// <summary>How many events are kept for the list.</summary>
    public const int MaxEvents = 200;

    private readonly Lock _lock = new();
    private readonly LinkedList<ListenerEvent> _events = new();
    private readonly Dictionary<ListenerId, Dictionary<SocketKey, Socket>> _sockets = [];
    private readonly Dictionary<ListenerId, ListenerInfo> _current = [];
    private Dictionary<ListenerId, ListenerInfo>? _atStart;
    private DateTimeOffset? _startedAt;
    private ListenerBaseline? _baseline;
    private ListenerView _view = ListenerView.Empty;

    public ListenerView View
    {
        get
        {
            lock (_lock)
            {
                return _view;
            }
        }
    }

    /// <summary>Restores what a previous run kept: its events (oldest first) and the saved baseline.</summary>
    public void Restore(IEnumerable<ListenerEvent> events, ListenerBaseline? baseline)
    {
        ArgumentNullException.ThrowIfNull(events);
        lock (_lock)
        {
            foreach (var e in events)
            {
                AddEvent(e);
            }

            _baseline = baseline;
            _view = BuildView();
        }
    }

    /// <summary>
    /// Takes in a snapshot and the deltas that lead to it; returns the listeners that appeared or went since the
    /// previous one (none for the first: what is there at start is the reference, not news). Only the listeners the
    /// deltas touch are looked at, unless <paramref name="rebuild"/> (a start or a resync) asks for the whole table.
    /// </summary>
    public IReadOnlyList<ListenerEvent> Apply(Snapshot snapshot, IReadOnlyList<Delta> deltas, bool rebuild)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(deltas);
        lock (_lock)
        {
            var touched = new HashSet<ListenerId>();
            if (_atStart is null || rebuild)
            {
                touched.UnionWith(_sockets.Keys);
                _sockets.Clear();
                foreach (var socket in snapshot.Sockets)
                {
                    Track(socket, add: true, touched);
                }
            }
            else
            {
                foreach (var delta in deltas)
                {
                    foreach (var socket in delta.Removed)
                    {
                        Track(socket, add: false, touched);
                    }

                    foreach (var change in delta.Changed)
                    {
                        Track(change.Before, add: false, touched);
                        Track(change.After, add: true, touched);
                    }

                    foreach (var socket in delta.Added)
                    {
                        Track(socket, add: true, touched);
                    }
                }

                if (touched.Count == 0)
                {
                    return [];
                }
            }

            var events = new List<ListenerEvent>();
            var changed = false;
            foreach (var id in touched.Order(ListenerId.Order))
            {
                var before = _current.GetValueOrDefault(id);
                var now = _sockets.TryGetValue(id, out var sockets) ? Info(id, sockets.Values, snapshot.PortPolicy) : null;
                if (now is null)
                {
                    if (_current.Remove(id) && before is not null)
                    {
                        events.Add(new ListenerEvent(snapshot.TakenAt, ListenerChange.Gone, id, before.Owners, before.Flags));
                    }
                }
                else
                {
                    _current[id] = now;
                    if (before is null)
                    {
                        events.Add(new ListenerEvent(snapshot.TakenAt, ListenerChange.New, id, now.Owners, now.Flags));
                    }
                    else
                    {
                        changed |= before != now;
                    }
                }
            }

            if (_atStart is null)
            {
                (_atStart, _startedAt) = (new Dictionary<ListenerId, ListenerInfo>(_current), snapshot.TakenAt);
                _view = BuildView();
                return []; // the reference, not news
            }

            events.Sort(static (a, b) => a.Change != b.Change ? a.Change.CompareTo(b.Change) : ListenerId.Order.Compare(a.Listener, b.Listener));
            events.ForEach(AddEvent);
            if (events.Count > 0 || changed)
            {
                _view = BuildView();
            }

            return events;
        }
    }

    /// <summary>Makes the listeners now the baseline; returns it (for saving).</summary>
    public ListenerBaseline SaveBaseline(DateTimeOffset at)
    {
        lock (_lock)
        {
            _baseline = new ListenerBaseline(at, [.. _current.Values.OrderBy(l => l.Id, ListenerId.Order)]);
            _view = BuildView();
            return _baseline;
        }
    }

    private void Track(Socket socket, bool add, HashSet<ListenerId> touched)
    {
        if (!ListeningRow.IsListening(socket))
        {
            return;
        }

        var id = ListenerId.Of(socket);
        touched.Add(id);
        if (add)
        {
            if (!_sockets.TryGetValue(id, out var sockets))
            {
                _sockets[id] = sockets = [];
            }

            sockets[socket.Key] = socket;
        }
        else if (_sockets.TryGetValue(id, out var sockets) && sockets.Remove(socket.Key) && sockets.Count == 0)
        {
            _sockets.Remove(id);
        }
    }

    /// <summary>One listener to a person, held by every process that holds one of its sockets (SO_REUSEPORT).</summary>
    private static ListenerInfo Info(ListenerId id, IEnumerable<Socket> sockets, OsPortPolicy policy)
    {
        var owners = sockets.SelectMany(s => s.Owners).DistinctBy(o => (o.Pid, o.StartTime)).OrderBy(o => o.Pid).ToImmutableArray();
        return new ListenerInfo(id, Display.Owners(owners), ListenerFlags.Of(id, policy));
    }

    private void AddEvent(ListenerEvent e)
    {
        _events.AddFirst(e);
        while (_events.Count > MaxEvents)
        {
            _events.RemoveLast();
        }
    }

    private ListenerView BuildView()
    {
        var start = _atStart ?? [];
        var baseline = _baseline?.Listeners.ToDictionary(l => l.Id) ?? [];
        ImmutableArray<ListenerInfo> Missing(IReadOnlyDictionary<ListenerId, ListenerInfo> from, IReadOnlyDictionary<ListenerId, ListenerInfo> notIn) =>
            [.. from.Values.Where(l => !notIn.ContainsKey(l.Id)).OrderBy(l => l.Id, ListenerId.Order)];
        return new ListenerView(
            [.. _current.Values.OrderBy(l => l.Id, ListenerId.Order)],
            [.. _events],
            _startedAt,
            _atStart is null ? [] : Missing(_current, start),
            _atStart is null ? [] : Missing(start, _current),
            _baseline,
            _baseline is null || _atStart is null ? [] : Missing(_current, baseline),
            _baseline is null || _atStart is null ? [] : Missing(baseline, _current));
    }
}
