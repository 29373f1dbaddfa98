using PortDashboard.Core.Ports;
using PortDashboard.Core.Pressure;
using PortDashboard.Core.Reading.Netlink;
using PortDashboard.Core.Sockets;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Insight.ShortLived;

/// <summary>How the owner of a socket seen closing was found.</summary>
public enum OwnerSource : byte
{
    /// <summary>Not known.</summary>
    None,

    /// <summary>The socket was in a snapshot with its owner.</summary>
    Seen,

    /// <summary>A server-side socket: the process listening on its local port accepted it.</summary>
    Listener,

    /// <summary>The process last seen with a connection from the same local address to the same destination (a likely owner).</summary>
    SameDestination,
}

/// <summary>A socket the kernel reported destroyed ("seen closing").</summary>
/// <param name="Socket">Its endpoints and last state, as the notification gave them (no owner).</param>
/// <param name="SeenAt">When the notification arrived.</param>
/// <param name="ShortLived">Whether it opened and closed between two polls: no snapshot showed it open.</param>
/// <param name="Owner">The process that held it, where known.</param>
/// <param name="OwnerSource">How <paramref name="Owner"/> was found.</param>
public sealed record ClosedSocket(Socket Socket, DateTimeOffset SeenAt, bool ShortLived, ProcessInfo? Owner, OwnerSource OwnerSource);

/// <summary>
/// Decides, for the sockets the kernel reported destroyed since the previous poll, whether a snapshot showed them open
/// (the previous or the current one: a connection closing now was open then) and who held them. Remembers the owner of
/// each connection that became an orphan (closed by its process, not yet destroyed: the snapshots show it without owner)
/// and the last owner toward each destination (the likely owner of a short-lived one). Used by the one insight loop only.
/// </summary>
internal sealed class ClosedSocketClassifier
{
    private const int MaxRememberedDestinations = 20_000;
    private const int MaxRememberedConnections = 200_000;
    private readonly Dictionary<Destination, ProcessInfo> _lastOwnerByDestination = [];
    private readonly Dictionary<FourTuple, ProcessInfo> _ownerByConnection = [];

    /// <summary>Remembers the last owner toward each destination of the sockets a delta added or changed.</summary>
    public void Learn(IEnumerable<Socket> added, OsPortPolicy policy)
    {
        foreach (var socket in added)
        {
            if (socket.Owners.IsEmpty || socket.Remote.IsUnspecified)
            {
                continue;
            }

            if (OpeningRateTracker.DestinationOf(socket, policy) is { } destination)
            {
                if (_lastOwnerByDestination.Count >= MaxRememberedDestinations && !_lastOwnerByDestination.ContainsKey(destination))
                {
                    _lastOwnerByDestination.Clear(); // bounded: start remembering afresh
                }

                _lastOwnerByDestination[destination] = socket.Owners[0];
            }
        }
    }

    /// <summary>
    /// Remembers the owner of each connection a delta turned into an orphan: a socket with owners that left the table
    /// (or lost them) while <paramref name="live"/> (the connections after the delta) holds its four-tuple without owner.
    /// Only those: remembering every connection's owner took tens of megabytes at 100,000 sockets.
    /// </summary>
    public void LearnOrphans(Delta delta, LiveConnections live)
    {
        ArgumentNullException.ThrowIfNull(delta);
        ArgumentNullException.ThrowIfNull(live);
        foreach (var socket in delta.Removed)
        {
            RememberIfOrphaned(socket, live);
        }

        foreach (var change in delta.Changed)
        {
            RememberIfOrphaned(change.Before, live);
        }
    }

    private void RememberIfOrphaned(Socket before, LiveConnections live)
    {
        if (before.Owners.IsEmpty || before.Remote.IsUnspecified || live.Full(before) is not { Owners.IsEmpty: true })
        {
            return;
        }

        if (_ownerByConnection.Count >= MaxRememberedConnections)
        {
            _ownerByConnection.Clear(); // bounded: start remembering afresh
        }

        _ownerByConnection[FourTuple.Of(before)] = before.Owners[0];
    }

    /// <summary>Connections whose owner is remembered because they became orphans, not yet seen destroyed.</summary>
    public int RememberedOrphans => _ownerByConnection.Count;

    /// <param name="destroyed">The socket the kernel reported destroyed.</param>
    /// <param name="seen">The open socket a snapshot showed with its four-tuple (the previous poll's or this one's), if any.</param>
    /// <param name="live">The connections as of this poll (for the listener that accepted it).</param>
    /// <param name="policy">The OS port policy (what is an outgoing connection).</param>
    public ClosedSocket Classify(DestroyedSocket destroyed, Socket? seen, LiveConnections live, OsPortPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(live);
        var socket = destroyed.Socket;
        if (seen is not null)
        {
            var owner = seen.Owners.IsEmpty ? OrphanOwner(socket) : seen.Owners[0];
            return new ClosedSocket(socket, destroyed.SeenAt, false, owner, owner is null ? OwnerSource.None : OwnerSource.Seen);
        }

        if (live.ListenerFor(socket) is { Owners.IsEmpty: false } listener)
        {
            return new ClosedSocket(socket, destroyed.SeenAt, true, listener.Owners[0], OwnerSource.Listener);
        }

        if (OpeningRateTracker.DestinationOf(socket, policy) is { } destination
            && _lastOwnerByDestination.TryGetValue(destination, out var likely))
        {
            return new ClosedSocket(socket, destroyed.SeenAt, true, likely, OwnerSource.SameDestination);
        }

        return new ClosedSocket(socket, destroyed.SeenAt, true, null, OwnerSource.None);
    }

    /// <summary>The remembered owner of a destroyed orphan, forgotten now: its four-tuple is free for a new connection.</summary>
    private ProcessInfo? OrphanOwner(Socket socket) => _ownerByConnection.Remove(FourTuple.Of(socket), out var owner) ? owner : null;
}
