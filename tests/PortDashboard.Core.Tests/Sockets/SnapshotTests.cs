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
        Assert.True(snapshot.TryGet(first.Key, out var indexed));
        Assert.Same(first, indexed);
        Assert.True(snapshot.TryGet(twin, out var counterpart));
        Assert.Same(first, counterpart);
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

    [Fact]
    public void A_lookup_by_key_needs_the_whole_key_not_only_the_inode()
    {
        var listener = Tcp(5000, 11);
        var snapshot = Snap(listener, Tcp(0, 0, SocketState.TimeWait));

        Assert.True(snapshot.Contains(listener.Key));
        Assert.True(snapshot.Contains(Tcp(5000, 11, SocketState.CloseWait))); // same key, other state: the same socket
        Assert.False(snapshot.Contains(Tcp(5001, 11))); // same inode, other endpoint
        Assert.False(snapshot.Contains(listener.Key with { Protocol = TransportProtocol.Udp }));
        Assert.False(snapshot.Contains(Tcp(5000, 12)));
        Assert.True(snapshot.Contains(Tcp(0, 0, SocketState.TimeWait)));
        Assert.False(snapshot.Contains(Tcp(1, 0, SocketState.TimeWait)));
    }

    [Fact]
    public void One_inode_listed_twice_with_other_endpoints_is_one_socket_caught_mid_change()
    {
        // An unconnected socket listed, then connected while the dump went on: the kernel has one socket per inode.
        var unconnected = Tcp(0, 11, SocketState.Close);
        var connected = Tcp(5000, 11);

        var snapshot = Snap(unconnected, Tcp(5001, 12), connected);

        Assert.Equal([unconnected, snapshot.Sockets[1]], snapshot.Sockets);
        Assert.False(snapshot.Contains(connected));
    }

    [Fact]
    public void Equal_keys_hash_alike_and_differing_keys_are_not_equal()
    {
        var key = Tcp(5000, 11).Key;

        Assert.Equal(key, Tcp(5000, 11, SocketState.FinWait1).Key);
        Assert.Equal(key.GetHashCode(), Tcp(5000, 11, SocketState.FinWait1).Key.GetHashCode());
        Assert.NotEqual(key, key with { Inode = 12 });
        Assert.NotEqual(key, key with { Local = key.Local with { Port = 5001 } });
        Assert.NotEqual(key, key with { Remote = key.Remote with { Address = NetAddress.FromIPv4(0x7F000002) } });
        Assert.NotEqual(key, key with { Protocol = TransportProtocol.Udp });
    }

    [Fact]
    public void A_table_of_100k_sockets_indexed_in_shards_finds_every_socket_and_keeps_the_first_of_each_twin()
    {
        // Inodes in a run, as the kernel hands them out, and 30k TIME_WAIT sockets (inode 0) told apart by their ports.
        var sockets = new List<Socket>();
        for (var i = 0; i < 100_000; i++)
        {
            sockets.Add(Tcp(1024 + (i % 60_000), 7_000_000 + i));
        }

        for (var i = 0; i < 30_000; i++)
        {
            sockets.Add(new Socket(TransportProtocol.Tcp, IpVersion.IPv4, new Endpoint(NetAddress.FromIPv4(0x7F000002), 20_000 + (i % 40_000)),
                new Endpoint(NetAddress.FromIPv4(0x7F000003), 1 + (i / 40_000)), SocketState.TimeWait, 0, 0));
        }

        var twins = new[] { Tcp(sockets[5].Local.Port, sockets[5].Inode), Tcp(sockets[99_999].Local.Port, sockets[99_999].Inode) };
        var snapshot = Snap([.. sockets, .. twins]);

        Assert.Equal(sockets, snapshot.Sockets);
        Assert.All(sockets, s => Assert.True(snapshot.TryGet(s.Key, out var found) && ReferenceEquals(found, s), $"{s}"));
        Assert.True(snapshot.TryGet(twins[1], out var first) && ReferenceEquals(first, sockets[99_999]));
        Assert.False(snapshot.Contains(Tcp(1024, 9_999_999)));
        Assert.False(snapshot.Contains(new Socket(TransportProtocol.Tcp, IpVersion.IPv4, new Endpoint(NetAddress.FromIPv4(0x7F000002), 20_000),
            new Endpoint(NetAddress.FromIPv4(0x7F000003), 9), SocketState.TimeWait, 0, 0)));
    }
}
