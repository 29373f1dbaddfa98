using PortDashboard.Core.Sockets;
using Endpoint = PortDashboard.Core.Sockets.Endpoint;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Insight.ShortLived;

/// <summary>
/// A snapshot's sockets by four-tuple (protocol, local, remote), the full sockets apart from the TIME_WAIT ones, and
/// its listeners by protocol and port. Built once per snapshot, on first use. The socket-destroy notifications carry
/// no usable inode (the file is gone by then), so a closed socket is matched to what the snapshots showed by its
/// four-tuple.
/// </summary>
internal sealed class ConnectionIndex
{
    private readonly Dictionary<FourTuple, Socket> _full = [];
    private readonly HashSet<FourTuple> _timeWait = [];
    private readonly Dictionary<(TransportProtocol Protocol, int Port), Socket> _listeners = [];

    private ConnectionIndex(Snapshot snapshot)
    {
        Snapshot = snapshot;
        foreach (var socket in snapshot.Sockets)
        {
            var tuple = FourTuple.Of(socket);
            if (socket.State == SocketState.TimeWait)
            {
                _timeWait.Add(tuple);
                continue;
            }

            // Sockets sharing a four-tuple (SO_REUSEPORT listeners): the one with owners tells more.
            if (!_full.TryGetValue(tuple, out var known) || (known.Owners.IsEmpty && !socket.Owners.IsEmpty))
            {
                _full[tuple] = socket;
            }

            if (Model.ListeningRow.IsListening(socket))
            {
                var port = (socket.Protocol, socket.Local.Port);
                if (!_listeners.TryGetValue(port, out var listener) || (listener.Owners.IsEmpty && !socket.Owners.IsEmpty))
                {
                    _listeners[port] = socket;
                }
            }
        }
    }

    public Snapshot Snapshot { get; }

    public static ConnectionIndex Of(Snapshot snapshot) => new(snapshot);

    /// <summary>The full (not TIME_WAIT) socket with this four-tuple, if the snapshot had one.</summary>
    public Socket? Full(Socket socket) => _full.GetValueOrDefault(FourTuple.Of(socket));

    /// <summary>Whether the snapshot had this four-tuple in TIME_WAIT.</summary>
    public bool InTimeWait(Socket socket) => _timeWait.Contains(FourTuple.Of(socket));

    /// <summary>The listener on this socket's local port and protocol (the one that accepted it, for a server-side socket).</summary>
    public Socket? ListenerFor(Socket socket) =>
        _listeners.TryGetValue((socket.Protocol, socket.Local.Port), out var listener)
        && (listener.Local.Address.IsWildcard || listener.Local.Address.Unmapped == socket.Local.Address.Unmapped)
            ? listener
            : null;
}

/// <summary>What identifies a connection without its inode. Addresses are unmapped (::ffff:a.b.c.d is a.b.c.d).</summary>
internal readonly record struct FourTuple(TransportProtocol Protocol, Endpoint Local, Endpoint Remote)
{
    public static FourTuple Of(Socket socket) => new(
        socket.Protocol,
        socket.Local with { Address = socket.Local.Address.Unmapped },
        socket.Remote with { Address = socket.Remote.Address.Unmapped });
}
