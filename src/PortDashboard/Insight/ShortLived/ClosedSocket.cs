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
/// Decides, for the sockets the kernel reported destroyed since the previous poll, whether a snapshot ever showed them
/// open (the previous or the current one: a connection closing now was open then) and who held them. Remembers the
/// last owner seen toward each destination for the short-lived ones. Used by the one insight loop only.
/// </summary>
internal sealed class ClosedSocketClassifier
{
    private const int MaxRememberedDestinations = 20_000;
    private readonly Dictionary<Destination, ProcessInfo> _lastOwnerByDestination = [];

    /// <summary>Remembers the owners of the outgoing sockets a delta added.</summary>
    public void Learn(IEnumerable<Socket> added, OsPortPolicy policy)
    {
        foreach (var socket in added)
        {
            if (!socket.Owners.IsEmpty && OpeningRateTracker.DestinationOf(socket, policy) is { } destination)
            {
                if (_lastOwnerByDestination.Count >= MaxRememberedDestinations && !_lastOwnerByDestination.ContainsKey(destination))
                {
                    _lastOwnerByDestination.Clear(); // bounded: start remembering afresh
                }

                _lastOwnerByDestination[destination] = socket.Owners[0];
            }
        }
    }

    public ClosedSocket Classify(DestroyedSocket destroyed, ConnectionIndex? previous, ConnectionIndex current)
    {
        var socket = destroyed.Socket;
        var seen = previous?.Full(socket) ?? current.Full(socket);
        if (seen is not null)
        {
            return seen.Owners.IsEmpty
                ? new ClosedSocket(socket, destroyed.SeenAt, false, null, OwnerSource.None)
                : new ClosedSocket(socket, destroyed.SeenAt, false, seen.Owners[0], OwnerSource.Seen);
        }

        if (current.ListenerFor(socket) is { Owners.IsEmpty: false } listener)
        {
            return new ClosedSocket(socket, destroyed.SeenAt, true, listener.Owners[0], OwnerSource.Listener);
        }

        if (OpeningRateTracker.DestinationOf(socket, current.Snapshot.PortPolicy) is { } destination
            && _lastOwnerByDestination.TryGetValue(destination, out var owner))
        {
            return new ClosedSocket(socket, destroyed.SeenAt, true, owner, OwnerSource.SameDestination);
        }

        return new ClosedSocket(socket, destroyed.SeenAt, true, null, OwnerSource.None);
    }
}
