using System.Net;
using System.Net.NetworkInformation;
using PortDashboard.Core.Sockets;
using NetTcpState = System.Net.NetworkInformation.TcpState;

namespace PortDashboard.Core.Reading;

/// <summary>
/// The reader for systems without <c>/proc/net</c>: .NET's <see cref="IPGlobalProperties"/> gives TCP connections
/// and TCP/UDP listeners, with no inodes, uids or owners.
/// </summary>
public sealed class PortableReader : ISocketTableReader
{
    public string Name => "portable";

    public bool SupportsAttribution => false;

    public SocketTableRead Read(CancellationToken cancellationToken = default)
    {
        var properties = IPGlobalProperties.GetIPGlobalProperties();
        var sockets = new List<Socket>();
        foreach (var connection in properties.GetActiveTcpConnections())
        {
            sockets.Add(Create(TransportProtocol.Tcp, connection.LocalEndPoint, connection.RemoteEndPoint, Map(connection.State)));
        }

        var anyV4 = new IPEndPoint(IPAddress.Any, 0);
        var anyV6 = new IPEndPoint(IPAddress.IPv6Any, 0);
        foreach (var listener in properties.GetActiveTcpListeners())
        {
            var remote = listener.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? anyV6 : anyV4;
            var socket = Create(TransportProtocol.Tcp, listener, remote, SocketState.Listen);
            if (!sockets.Exists(s => s.Key == socket.Key))
            {
                sockets.Add(socket);
            }
        }

        foreach (var listener in properties.GetActiveUdpListeners())
        {
            var remote = listener.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? anyV6 : anyV4;
            sockets.Add(Create(TransportProtocol.Udp, listener, remote, SocketState.Unconnected));
        }

        return new SocketTableRead(sockets, new MalformedInput());
    }

    private static Socket Create(TransportProtocol protocol, IPEndPoint local, IPEndPoint remote, SocketState state)
    {
        var family = local.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? IpVersion.IPv6 : IpVersion.IPv4;
        return new Socket(
            protocol,
            family,
            new Endpoint(NetAddress.FromIPAddress(local.Address), local.Port),
            new Endpoint(NetAddress.FromIPAddress(remote.Address), remote.Port),
            state,
            inode: 0,
            uid: -1);
    }

    internal static SocketState Map(NetTcpState state) => state switch
    {
        NetTcpState.Established => SocketState.Established,
        NetTcpState.SynSent => SocketState.SynSent,
        NetTcpState.SynReceived => SocketState.SynRecv,
        NetTcpState.FinWait1 => SocketState.FinWait1,
        NetTcpState.FinWait2 => SocketState.FinWait2,
        NetTcpState.TimeWait => SocketState.TimeWait,
        NetTcpState.Closed => SocketState.Close,
        NetTcpState.CloseWait => SocketState.CloseWait,
        NetTcpState.LastAck => SocketState.LastAck,
        NetTcpState.Listen => SocketState.Listen,
        NetTcpState.Closing => SocketState.Closing,
        _ => SocketState.Unknown,
    };
}
