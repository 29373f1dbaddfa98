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
/// (the previous or the current one: a connection closing now was open then) and who held them. Remembers the owners
/// seen per connection (a closing socket is often an orphan by the next poll) and the last one toward each
/// destination (the likely owner of a short-lived one). Used by the one insight loop only.
/// </summary>
internal sealed class ClosedSocketClassifier
{
    private const int MaxRememberedDestinations = 20_000;
    private const int MaxRememberedConnections = 200_000;
    private readonly Dictionary<Destination, ProcessInfo> _lastOwnerByDestination = [];
    private readonly Dictionary<FourTuple, ProcessInfo> _ownerByConnection = [];

    /// <summary>Remembers the owners of the sockets a delta added (a closing socket is often an orphan by then: no owner).</summary>
    public void Learn(IEnumerable<Socket> added, OsPortPolicy policy)
    {
        foreach (var socket in added)
        {
            if (socket.Owners.IsEmpty || socket.Remote.IsUnspecified)
            {
                continue;
            }

            if (_ownerByConnection.Count >= MaxRememberedConnections)
            {
                _ownerByConnection.Clear(); // bounded: start remembering afresh
            }

            _ownerByConnection[FourTuple.Of(socket)] = socket.Owners[0];
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
            var owner = seen.Owners.IsEmpty ? _ownerByConnection.GetValueOrDefault(FourTuple.Of(socket)) : seen.Owners[0];
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
}
