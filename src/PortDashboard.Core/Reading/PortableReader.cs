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
    private static readonly IPEndPoint AnyV4 = new(IPAddress.Any, 0);
    private static readonly IPEndPoint AnyV6 = new(IPAddress.IPv6Any, 0);

    public string Name => "portable";

    public bool SupportsAttribution => false;

    public SocketTableRead Read(CancellationToken cancellationToken = default)
    {
        var properties = IPGlobalProperties.GetIPGlobalProperties();
        var sockets = new List<Socket>();
        var seen = new HashSet<SocketKey>();
        foreach (var connection in properties.GetActiveTcpConnections())
        {
            Add(Create(TransportProtocol.Tcp, connection.LocalEndPoint, connection.RemoteEndPoint, Map(connection.State)));
        }

        cancellationToken.ThrowIfCancellationRequested();
        foreach (var listener in properties.GetActiveTcpListeners())
        {
            Add(Create(TransportProtocol.Tcp, listener, WildcardFor(listener), SocketState.Listen));
        }

        cancellationToken.ThrowIfCancellationRequested();
        foreach (var listener in properties.GetActiveUdpListeners())
        {
            Add(Create(TransportProtocol.Udp, listener, WildcardFor(listener), SocketState.Unconnected));
        }

        return new SocketTableRead(sockets, new MalformedInput());

        // Some platforms list a listener among the connections too: with no inode to tell them apart, keep one per key.
        void Add(Socket socket)
        {
            if (seen.Add(socket.Key))
            {
                sockets.Add(socket);
            }
        }
    }

    private static IPEndPoint WildcardFor(IPEndPoint local) =>
        local.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? AnyV6 : AnyV4;

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
