using System.Collections.Immutable;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Tests.Support;

/// <summary>Builds Core sockets, snapshots and deltas for tests.</summary>
public static class TestSockets
{
    public static readonly NetAddress Loopback = NetAddress.FromIPv4(0x7F000001);

    public static readonly Endpoint NoEndpoint = new(NetAddress.AnyV4, 0);

    public static Socket Listener(int port, long inode, TransportProtocol protocol = TransportProtocol.Tcp) =>
        new(protocol, IpVersion.IPv4, new Endpoint(Loopback, port), NoEndpoint,
            protocol == TransportProtocol.Tcp ? SocketState.Listen : SocketState.Unconnected, inode, 0);

    public static Socket Connection(int localPort, int remotePort, long inode, SocketState state = SocketState.Established, params ProcessInfo[] owners) =>
        new(TransportProtocol.Tcp, IpVersion.IPv4, new Endpoint(Loopback, localPort), new Endpoint(Loopback, remotePort),
            state, inode, 0, owners: [.. owners]);

    public static Socket WithState(this Socket socket, SocketState state) =>
        new(socket.Protocol, socket.Family, socket.Local, socket.Remote, state, socket.Inode, socket.Uid,
            socket.TransmitQueue, socket.ReceiveQueue, socket.Owners);

    /// <summary>The socket with tcp_info byte counters, as the netlink reader reads them.</summary>
    public static Socket WithCounters(this Socket socket, ulong received, ulong acked) =>
        new(socket.Protocol, socket.Family, socket.Local, socket.Remote, socket.State, socket.Inode, socket.Uid,
            socket.TransmitQueue, socket.ReceiveQueue, socket.Owners, new TcpInfo(100, 10, 10, 0, 0, acked, received, acked, null));

    public static Snapshot SnapshotOf(DateTimeOffset takenAt, params Socket[] sockets) =>
        new([.. sockets], takenAt, TimeSpan.FromMilliseconds(1), "fake",
            new AttributionStatus(AttributionCompleteness.Complete, 1, 0), OsPortPolicy.LinuxDefault, "test-host");

    public static Delta NumberedDelta(long sequence, Snapshot previous, Snapshot current) =>
        Core.Sockets.Delta.Between(previous, current) with { Sequence = sequence };

    public static ImmutableArray<Socket> Table(params Socket[] sockets) => [.. sockets];
}
