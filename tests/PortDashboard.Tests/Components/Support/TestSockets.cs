using System.Collections.Immutable;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Tests.Components.Support;

/// <summary>Builds sockets and snapshots from the text people read: <c>127.0.0.1:443</c>, <c>[::1]:22</c>, <c>*:*</c>.</summary>
public static class TestSockets
{
    public const string HostName = "testhost";

    private static long s_nextInode = 10_000;

    public static ProcessInfo Process(string name, int pid, string user = "root", int uid = 0) =>
        new(pid, (ulong)pid * 100, name, uid, user);

    public static Socket Tcp(string local, string remote, SocketState state, params ProcessInfo[] owners) =>
        Make(TransportProtocol.Tcp, local, remote, state, owners);

    public static Socket Udp(string local, string remote = "*:*", params ProcessInfo[] owners) =>
        Make(TransportProtocol.Udp, local, remote, remote == "*:*" ? SocketState.Unconnected : SocketState.Established, owners);

    public static Socket Listener(string local, params ProcessInfo[] owners) =>
        Tcp(local, "*:*", SocketState.Listen, owners);

    public static Snapshot Snapshot(DateTimeOffset takenAt, params Socket[] sockets) =>
        Snapshot(takenAt, new AttributionStatus(AttributionCompleteness.Complete, 42, 0), sockets);

    public static Snapshot Snapshot(DateTimeOffset takenAt, AttributionStatus attribution, params Socket[] sockets) =>
        new([.. sockets], takenAt, TimeSpan.FromMilliseconds(3), "test", attribution, OsPortPolicy.LinuxDefault, HostName);

    public static Endpoint Endpoint(string text)
    {
        if (text == "*:*")
        {
            return new Endpoint(NetAddress.AnyV4, 0);
        }

        var colon = text.LastIndexOf(':');
        if (!NetAddress.TryParse(text.AsSpan(0, colon), out var address))
        {
            throw new ArgumentException($"Not an endpoint: {text}", nameof(text));
        }

        return new Endpoint(address, int.Parse(text.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture));
    }

    private static Socket Make(TransportProtocol protocol, string local, string remote, SocketState state, ProcessInfo[] owners)
    {
        var localEndpoint = Endpoint(local);
        var family = localEndpoint.Address.IsIPv6 ? IpVersion.IPv6 : IpVersion.IPv4;
        var inode = state == SocketState.TimeWait ? 0 : Interlocked.Increment(ref s_nextInode);
        var uid = owners.Length > 0 ? owners[0].Uid : 0;
        return new Socket(protocol, family, localEndpoint, Endpoint(remote), state, inode, uid, owners: [.. owners]);
    }

    /// <summary>The same socket (same key) in another state, or held by other processes.</summary>
    public static Socket With(this Socket socket, SocketState state, params ProcessInfo[] owners) =>
        new(socket.Protocol, socket.Family, socket.Local, socket.Remote, state, socket.Inode, socket.Uid,
            owners: owners.Length == 0 ? socket.Owners : ImmutableArray.Create(owners));
}
