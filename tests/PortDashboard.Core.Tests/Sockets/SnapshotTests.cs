using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Core.Tests.Sockets;

public class SnapshotTests
{
    private static Socket Tcp(int localPort, long inode, SocketState state = SocketState.Established) =>
        new(TransportProtocol.Tcp, IpVersion.IPv4, new Endpoint(NetAddress.FromIPv4(0x7F000001), localPort),
            new Endpoint(NetAddress.FromIPv4(0x7F000001), 80), state, inode, 0);

    private static Snapshot Snap(params Socket[] sockets) =>
        new([.. sockets], DateTimeOffset.UnixEpoch, TimeSpan.Zero, "test", AttributionStatus.Unavailable("test"), OsPortPolicy.LinuxDefault, "host");

    [Fact]
    public void A_socket_a_non_atomic_dump_listed_twice_is_kept_once_in_table_order()
    {
        var first = Tcp(5000, 11);
        var other = Tcp(5001, 12);
        var twin = Tcp(5000, 11);

        var snapshot = Snap(first, other, twin);

        Assert.Equal([first, other], snapshot.Sockets);
        Assert.Equal(2, snapshot.Count);
        Assert.Same(first, snapshot.ByKey[first.Key]);
    }

    [Fact]
    public void The_same_instance_listed_twice_is_kept_once()
    {
        var reused = Tcp(5000, 11);

        var snapshot = Snap(reused, Tcp(5001, 12), reused);

        Assert.Equal(2, snapshot.Count);
        Assert.Same(reused, snapshot.Sockets[0]);
    }

    [Fact]
    public void Time_wait_twins_with_inode_zero_but_other_endpoints_are_distinct_sockets()
    {
        var snapshot = Snap(Tcp(5000, 0, SocketState.TimeWait), Tcp(5001, 0, SocketState.TimeWait));

        Assert.Equal(2, snapshot.Count);
        Assert.True(snapshot.TryGet(snapshot.Sockets[1].Key, out var found));
        Assert.Equal(5001, found.Local.Port);
    }
}
