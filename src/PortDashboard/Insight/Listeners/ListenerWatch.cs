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
    private Dictionary<ListenerId, ListenerInfo> _current = [];
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
    /// Takes in a snapshot; returns the listeners that appeared or went since the previous one (none for the first:
    /// what is there at start is the reference, not news).
    /// </summary>
    public IReadOnlyList<ListenerEvent> Apply(Snapshot snapshot, IReadOnlyList<Delta> deltas, bool rebuild)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(deltas);
        lock (_lock)
        {
            if (_atStart is not null && !rebuild && !deltas.Any(TouchesListeners))
            {
                return [];
            }

            var now = Listeners(snapshot);
            if (_atStart is null)
            {
                (_atStart, _startedAt, _current) = (now, snapshot.TakenAt, now);
                _view = BuildView();
                return [];
            }

            var events = new List<ListenerEvent>();
            foreach (var (id, info) in now.Where(pair => !_current.ContainsKey(pair.Key)).OrderBy(pair => pair.Key, ListenerId.Order))
            {
                events.Add(new ListenerEvent(snapshot.TakenAt, ListenerChange.New, id, info.Owners, info.Flags));
            }

            foreach (var (id, info) in _current.Where(pair => !now.ContainsKey(pair.Key)).OrderBy(pair => pair.Key, ListenerId.Order))
            {
                events.Add(new ListenerEvent(snapshot.TakenAt, ListenerChange.Gone, id, info.Owners, info.Flags));
            }

            var ownersChanged = events.Count == 0 && now.Any(pair => _current[pair.Key].Owners != pair.Value.Owners);
            _current = now;
            events.ForEach(AddEvent);
            if (events.Count > 0 || ownersChanged)
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

    private static bool TouchesListeners(Delta delta) =>
        delta.Added.Any(ListeningRow.IsListening)
        || delta.Removed.Any(ListeningRow.IsListening)
        || delta.Changed.Any(c => ListeningRow.IsListening(c.Before) || ListeningRow.IsListening(c.After));

    private static Dictionary<ListenerId, ListenerInfo> Listeners(Snapshot snapshot)
    {
        var listeners = new Dictionary<ListenerId, ListenerInfo>();
        foreach (var socket in snapshot.Sockets)
        {
            if (!ListeningRow.IsListening(socket))
            {
                continue;
            }

            var id = ListenerId.Of(socket);
            var owners = Display.Owners(socket.Owners);
            if (listeners.TryGetValue(id, out var known))
            {
                // SO_REUSEPORT: one listener to a person, held by every process that holds one of its sockets.
                if (owners.Length > 0 && !known.Owners.Contains(owners, StringComparison.Ordinal))
                {
                    listeners[id] = known with { Owners = known.Owners.Length == 0 ? owners : known.Owners + ", " + owners };
                }

                continue;
            }

            listeners[id] = new ListenerInfo(id, owners, ListenerFlags.Of(id, snapshot.PortPolicy));
        }

        return listeners;
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
