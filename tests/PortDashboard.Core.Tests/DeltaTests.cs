using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Core.Tests;

public class DeltaTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    private static Endpoint V4(string address, int port) =>
        new(NetAddress.TryParse(address, out var a) ? a : throw new ArgumentException(address), port);

    private static Socket Tcp(string local, int localPort, string remote, int remotePort, SocketState state, long inode, params ProcessInfo[] owners) =>
        new(TransportProtocol.Tcp, IpVersion.IPv4, V4(local, localPort), V4(remote, remotePort), state, inode, 0, owners: [.. owners]);

    private static Snapshot Snap(DateTimeOffset at, params Socket[] sockets) =>
        new([.. sockets], at, TimeSpan.Zero, "test", new AttributionStatus(AttributionCompleteness.Complete, 1, 0), OsPortPolicy.LinuxDefault, "host");

    [Fact]
    public void Added_removed_and_unchanged_sockets_are_told_apart()
    {
        var kept = Tcp("127.0.0.1", 80, "0.0.0.0", 0, SocketState.Listen, 10);
        var gone = Tcp("127.0.0.1", 5000, "127.0.0.1", 80, SocketState.Established, 11);
        var fresh = Tcp("127.0.0.1", 5001, "127.0.0.1", 80, SocketState.Established, 12);

        var delta = Delta.Between(Snap(T0, kept, gone), Snap(T0.AddSeconds(1), kept, fresh));

        Assert.Equal([fresh], delta.Added);
        Assert.Equal([gone], delta.Removed);
        Assert.Empty(delta.Changed);
        Assert.Equal(T0, delta.PreviousTakenAt);
        Assert.Equal(T0.AddSeconds(1), delta.TakenAt);
    }

    [Fact]
    public void A_state_change_with_the_same_key_is_a_change_not_a_remove_and_add()
    {
        var before = Tcp("127.0.0.1", 5000, "127.0.0.1", 80, SocketState.Established, 11);
        var after = Tcp("127.0.0.1", 5000, "127.0.0.1", 80, SocketState.CloseWait, 11);

        var delta = Delta.Between(Snap(T0, before), Snap(T0, after));

        var change = Assert.Single(delta.Changed);
        Assert.Same(before, change.Before);
        Assert.Same(after, change.After);
        Assert.Empty(delta.Added);
        Assert.Empty(delta.Removed);
    }

    [Fact]
    public void An_owner_change_is_a_change()
    {
        var parent = new ProcessInfo(100, 5, "server", 0, "root");
        var child = new ProcessInfo(101, 9, "server", 0, "root");
        var before = Tcp("0.0.0.0", 8080, "0.0.0.0", 0, SocketState.Listen, 20, parent);
        var after = Tcp("0.0.0.0", 8080, "0.0.0.0", 0, SocketState.Listen, 20, parent, child);

        var delta = Delta.Between(Snap(T0, before), Snap(T0, after));

        Assert.Equal(2, Assert.Single(delta.Changed).After.Owners.Length);
    }

    [Fact]
    public void A_reused_pid_with_another_start_time_is_a_different_owner()
    {
        var before = Tcp("0.0.0.0", 8080, "0.0.0.0", 0, SocketState.Listen, 20, new ProcessInfo(100, 5, "server", 0, "root"));
        var after = Tcp("0.0.0.0", 8080, "0.0.0.0", 0, SocketState.Listen, 20, new ProcessInfo(100, 777, "server", 0, "root"));

        Assert.Single(Delta.Between(Snap(T0, before), Snap(T0, after)).Changed);
    }

    [Fact]
    public void Time_wait_sockets_with_inode_zero_are_keyed_by_their_endpoints()
    {
        var a = Tcp("127.0.0.1", 40001, "127.0.0.1", 80, SocketState.TimeWait, 0);
        var b = Tcp("127.0.0.1", 40002, "127.0.0.1", 80, SocketState.TimeWait, 0);
        var c = Tcp("127.0.0.1", 40003, "127.0.0.1", 80, SocketState.TimeWait, 0);

        var delta = Delta.Between(Snap(T0, a, b), Snap(T0, b, c));

        Assert.Equal([c], delta.Added);
        Assert.Equal([a], delta.Removed);
        Assert.Empty(delta.Changed);
    }

    [Fact]
    public void An_established_socket_entering_time_wait_is_removed_and_its_time_wait_twin_added()
    {
        // The kernel replaces the socket with a timewait sock: the inode drops to 0, so the key differs.
        var established = Tcp("127.0.0.1", 40001, "127.0.0.1", 80, SocketState.Established, 30);
        var timeWait = Tcp("127.0.0.1", 40001, "127.0.0.1", 80, SocketState.TimeWait, 0);

        var delta = Delta.Between(Snap(T0, established), Snap(T0, timeWait));

        Assert.Equal([timeWait], delta.Added);
        Assert.Equal([established], delta.Removed);
    }

    [Fact]
    public void Identical_snapshots_give_an_empty_delta()
    {
        var sockets = Enumerable.Range(0, 1000).Select(i => Tcp("127.0.0.1", 10000 + i, "127.0.0.1", 80, SocketState.Established, 1000 + i)).ToArray();
        var copies = sockets.Select(s => Tcp("127.0.0.1", s.Local.Port, "127.0.0.1", 80, SocketState.Established, s.Inode)).ToArray();

        var delta = Delta.Between(Snap(T0, sockets), Snap(T0, copies));

        Assert.True(delta.IsEmpty);
        Assert.Equal(0, delta.Count);
    }

    [Fact]
    public void A_socket_listed_twice_in_one_read_counts_once()
    {
        var socket = Tcp("127.0.0.1", 5000, "127.0.0.1", 80, SocketState.Established, 11);
        var twin = Tcp("127.0.0.1", 5000, "127.0.0.1", 80, SocketState.Established, 11);

        var delta = Delta.Between(Snap(T0), Snap(T0, socket, twin));

        Assert.Single(delta.Added);
    }

    [Fact]
    public void Shared_instances_in_shifted_order_give_the_same_delta_as_comparing_by_key()
    {
        // As the snapshotter makes them: unchanged sockets are the previous snapshot's instances, the dump's order moves
        // by a few places as sockets come and go, some sockets change, and the order may also be shuffled outright.
        var random = new Random(5);
        for (var round = 0; round < 200; round++)
        {
            var before = Enumerable.Range(0, random.Next(0, 60))
                .Select(i => Tcp("127.0.0.1", 10_000 + i, "127.0.0.1", 80, SocketState.Established, 1_000 + i))
                .ToList();
            var after = new List<Socket>();
            var nextInode = 5_000;
            foreach (var socket in before)
            {
                switch (random.Next(10))
                {
                    case 0:
                        break; // closed
                    case 1:
                        after.Add(Tcp("127.0.0.1", socket.Local.Port, "127.0.0.1", 80, SocketState.CloseWait, socket.Inode)); // changed
                        break;
                    case 2:
                        after.Add(socket);
                        after.Add(Tcp("127.0.0.2", nextInode, "127.0.0.1", 80, SocketState.Established, nextInode++)); // opened
                        break;
                    default:
                        after.Add(socket);
                        break;
                }
            }

            if (round % 4 == 3)
            {
                random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(after));
            }

            var (a, b) = (Snap(T0, [.. before]), Snap(T0.AddSeconds(1), [.. after]));
            var delta = Delta.Between(a, b);

            var beforeKeys = before.Select(s => s.Key).ToHashSet();
            var afterKeys = after.Select(s => s.Key).ToHashSet();
            Assert.Equal(after.Where(s => !beforeKeys.Contains(s.Key)).Select(s => s.Inode).Order(), delta.Added.Select(s => s.Inode).Order());
            Assert.Equal(before.Where(s => !afterKeys.Contains(s.Key)).Select(s => s.Inode).Order(), delta.Removed.Select(s => s.Inode).Order());
            Assert.Equal(after.Where(s => s.State == SocketState.CloseWait).Select(s => s.Inode).Order(), delta.Changed.Select(c => c.After.Inode).Order());
        }
    }
}
