using PortDashboard.Core.Sockets;
using PortDashboard.Model;
using Endpoint = PortDashboard.Core.Sockets.Endpoint;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Insight.ShortLived;

/// <summary>
/// The open connections (every socket but TIME_WAIT ones) by four-tuple, and the listeners by protocol and port, kept
/// up to date from the deltas: the work per poll grows with the churn, not the table. Socket-destroy notifications
/// carry no usable inode (the file is gone by then), so a closed socket is matched to what the snapshots showed by its
/// four-tuple. Used by the insight loop only.
/// </summary>
internal sealed class LiveConnections
{
    private readonly Dictionary<FourTuple, Socket> _full = [];
    private readonly Dictionary<(TransportProtocol Protocol, int Port), List<Socket>> _listeners = [];

    public int Count => _full.Count;

    /// <summary>The connections of one snapshot (for a start, a resync, or a test).</summary>
    public static LiveConnections Of(Snapshot snapshot)
    {
        var live = new LiveConnections();
        live.Reset(snapshot);
        return live;
    }

    public void Reset(Snapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        _full.Clear();
        _listeners.Clear();
        foreach (var socket in snapshot.Sockets)
        {
            Add(socket);
        }
    }

    public void Apply(Delta delta)
    {
        ArgumentNullException.ThrowIfNull(delta);
        foreach (var socket in delta.Removed)
        {
            Remove(socket);
        }

        foreach (var change in delta.Changed)
        {
            Remove(change.Before);
            Add(change.After);
        }

        foreach (var socket in delta.Added)
        {
            Add(socket);
        }
    }

    /// <summary>The open (not TIME_WAIT) socket with this four-tuple, if there is one.</summary>
    public Socket? Full(Socket socket) => _full.GetValueOrDefault(FourTuple.Of(socket));

    /// <summary>The listener on this socket's local port and protocol (the one that accepted it, for a server-side socket); one with owners first.</summary>
    public Socket? ListenerFor(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (!_listeners.TryGetValue((socket.Protocol, socket.Local.Port), out var listeners))
        {
            return null;
        }

        Socket? match = null;
        foreach (var listener in listeners)
        {
            if (listener.Local.Address.IsWildcard || listener.Local.Address.Unmapped == socket.Local.Address.Unmapped)
            {
                if (!listener.Owners.IsEmpty)
                {
                    return listener;
                }

                match ??= listener;
            }
        }

        return match;
    }

    private void Add(Socket socket)
    {
        if (socket.State == SocketState.TimeWait)
        {
            return;
        }

        // Sockets sharing a four-tuple (SO_REUSEPORT listeners): the one with owners tells more.
        var tuple = FourTuple.Of(socket);
        if (!_full.TryGetValue(tuple, out var known) || known.Owners.IsEmpty || !socket.Owners.IsEmpty)
        {
            _full[tuple] = socket;
        }

        if (ListeningRow.IsListening(socket))
        {
            var port = (socket.Protocol, socket.Local.Port);
            if (!_listeners.TryGetValue(port, out var list))
            {
                _listeners[port] = list = [];
            }

            list.Add(socket);
        }
    }

    private void Remove(Socket socket)
    {
        var tuple = FourTuple.Of(socket);
        if (_full.TryGetValue(tuple, out var known) && known.Key == socket.Key)
        {
            _full.Remove(tuple);
        }

        if (ListeningRow.IsListening(socket) && _listeners.TryGetValue((socket.Protocol, socket.Local.Port), out var list))
        {
            list.RemoveAll(s => s.Key == socket.Key);
            if (list.Count == 0)
            {
                _listeners.Remove((socket.Protocol, socket.Local.Port));
            }
        }
    }
}

/// <summary>What identifies a connection without its inode. Addresses are unmapped (::ffff:a.b.c.d is a.b.c.d).</summary>
internal readonly record struct FourTuple(TransportProtocol Protocol, Endpoint Local, Endpoint Remote)
{
    public static FourTuple Of(Socket socket) => new(
        socket.Protocol,
        socket.Local with { Address = socket.Local.Address.Unmapped },
        socket.Remote with { Address = socket.Remote.Address.Unmapped });
}
