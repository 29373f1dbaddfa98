using System.Net;
using System.Net.Sockets;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Reading.Netlink;
using PortDashboard.Core.Sockets;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Core.Tests.Reading.Netlink;

public sealed class NetlinkReaderTests : IDisposable
{
    private readonly List<IDisposable> _open = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        foreach (var item in _open)
        {
            item.Dispose();
        }
    }

    [Fact]
    public void The_kernel_answers_sock_diag_dumps_here()
    {
        using var reader = NetlinkReader.TryCreate(out var whyNot);

        Assert.True(reader is not null, $"netlink sock_diag refused: {whyNot}");
        Assert.Equal("netlink", reader.Name);
    }

    [Fact]
    public async Task One_walk_of_tcp_for_both_families_lists_what_one_dump_per_family_lists()
    {
        var ports = await OpenVarietyOfSocketsAsync();
        using var oneWalk = new NetlinkReader();
        using var perFamily = new NetlinkReader { TcpInOneWalk = false };

        var (a, b) = (oneWalk.Read(Ct).Sockets, perFamily.Read(Ct).Sockets);

        Assert.Null(oneWalk.TcpCompatRefusal);
        static string Describe(Socket s) => $"{s.Protocol} {s.Family} {s.Local} {s.Remote} {s.State} {s.Inode}";
        var ours = (List<Socket> table) => table
            .Where(s => s.Protocol == TransportProtocol.Tcp && s.State != SocketState.TimeWait && (ports.Contains(s.Local.Port) || ports.Contains(s.Remote.Port)))
            .Select(Describe).Order().ToList();
        Assert.NotEmpty(ours(a));
        Assert.Contains(a, s => s.Protocol == TransportProtocol.Tcp && s.Family == IpVersion.IPv6 && ports.Contains(s.Local.Port));
        Assert.Contains(a, s => s.Protocol == TransportProtocol.Tcp && s.Family == IpVersion.IPv4 && ports.Contains(s.Local.Port));
        Assert.Equal(ours(b), ours(a));
    }

    [Fact]
    public async Task The_kernel_says_whether_one_socket_is_still_open_without_a_dump()
    {
        using var netlink = NetlinkReader.TryCreate(out var whyNot) ?? throw new InvalidOperationException(whyNot);
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var client = new System.Net.Sockets.Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
        await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback.MapToIPv6(), port), Ct);
        using var accepted = await listener.AcceptSocketAsync(Ct);
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var udpPort = ((IPEndPoint)udp.Client.LocalEndPoint!).Port;

        var table = netlink.Read(Ct).Sockets;
        var ours = new[]
        {
            table.Single(s => s.State == SocketState.Listen && s.Local.Port == port),
            table.Single(s => s.Family == IpVersion.IPv6 && s.Remote.Port == port), // IPv4-mapped client end
            table.Single(s => s.State == SocketState.Established && s.Local.Port == port),
            table.Single(s => s.Protocol == TransportProtocol.Udp && s.Local.Port == udpPort),
        };
        Assert.All(ours, s => Assert.True(netlink.IsOpen(s), $"open: {s}"));

        // Same endpoints, another inode: not this socket.
        var listening = ours[0];
        Assert.False(netlink.IsOpen(new Socket(listening.Protocol, listening.Family, listening.Local, listening.Remote, listening.State, listening.Inode + 1_000_000, 0)));

        listener.Stop();
        udp.Dispose();
        Assert.False(netlink.IsOpen(listening));
        Assert.False(netlink.IsOpen(ours[3]));
    }

    [Fact]
    public async Task The_reader_hears_which_sockets_of_its_last_read_closed_since()
    {
        using var netlink = NetlinkReader.TryCreate(out var whyNot) ?? throw new InvalidOperationException(whyNot);
        var (port, client, _) = await ConnectOverLoopbackAsync();
        var clientPort = ((IPEndPoint)client.LocalEndPoint!).Port;

        // The subscription starts at the first read after the first question (a reader nobody asks keeps no cookies).
        Assert.False(netlink.CollectClosedSinceRead(new HashSet<long>()), "no subscription before anyone asked");
        var table = netlink.Read(Ct).Sockets;
        var clientEnd = table.Single(s => s.Local.Port == clientPort && s.Remote.Port == port);
        var listening = table.Single(s => s.State == SocketState.Listen && s.Local.Port == port);

        // Nothing of this read has closed yet.
        var closed = new HashSet<long>();
        // Tests run as root here, which has CAP_NET_ADMIN.
        Assert.True(netlink.CollectClosedSinceRead(closed), $"needs CAP_NET_ADMIN: {netlink.ClosureTrackingUnavailable}");
        Assert.DoesNotContain(clientEnd.Inode, closed);

        // An abortive close (linger 0: a reset) destroys the socket at once; the kernel's notice comes a moment later.
        client.LingerState = new LingerOption(true, 0);
        client.Close();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!closed.Contains(clientEnd.Inode) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, Ct);
            Assert.True(netlink.CollectClosedSinceRead(closed));
        }

        Assert.Contains(clientEnd.Inode, closed);
        Assert.DoesNotContain(listening.Inode, closed);

        // The next read starts over: what closed before it began is not in it, so not reported.
        netlink.Read(Ct);
        closed.Clear();
        Assert.True(netlink.CollectClosedSinceRead(closed));
        Assert.DoesNotContain(clientEnd.Inode, closed);
    }

    [Fact]
    public async Task A_reusing_read_hands_back_the_last_snapshots_instance_of_each_unchanged_socket()
    {
        using var netlink = NetlinkReader.TryCreate(out var whyNot) ?? throw new InvalidOperationException(whyNot);
        var (port, client, _) = await ConnectOverLoopbackAsync();
        var previous = new Snapshot([.. netlink.Read(Ct).Sockets], DateTimeOffset.UtcNow, TimeSpan.Zero, "netlink", AttributionStatus.Unavailable("test"), Core.Ports.OsPortPolicy.LinuxDefault, "test");

        client.Send("unread"u8); // the accepted end's receive queue grows: a changed row
        var deadline = DateTime.UtcNow.AddSeconds(10);
        List<Socket> again;
        do
        {
            again = netlink.ReadReusing(previous, Ct).Sockets;
        }
        while (again.Single(s => s.State == SocketState.Established && s.Local.Port == port).ReceiveQueue == 0 && DateTime.UtcNow < deadline);

        Assert.Same(previous.Sockets.Single(s => s.State == SocketState.Listen && s.Local.Port == port), again.Single(s => s.State == SocketState.Listen && s.Local.Port == port));
        var receiving = again.Single(s => s.State == SocketState.Established && s.Local.Port == port);
        Assert.Equal(6, receiving.ReceiveQueue);
        Assert.NotSame(previous.Sockets.Single(s => s.State == SocketState.Established && s.Local.Port == port), receiving);
    }

    /// <summary>A listener on an IPv4 loopback port and one connection to it, all closed when the test ends.</summary>
    private async Task<(int Port, System.Net.Sockets.Socket Client, System.Net.Sockets.Socket Accepted)> ConnectOverLoopbackAsync()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        _open.Add(listener.Server);
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var client = new System.Net.Sockets.Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _open.Add(client);
        await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), Ct);
        var accepted = await listener.AcceptSocketAsync(Ct);
        _open.Add(accepted);
        return (port, client, accepted);
    }

    [Fact]
    public void A_reader_told_not_to_track_closures_says_it_cannot_tell()
    {
        using var netlink = new NetlinkReader { TracksClosures = false };
        netlink.Read(Ct);

        Assert.False(netlink.CollectClosedSinceRead(new HashSet<long>()));
    }

    [Fact]
    public async Task Netlink_and_proc_net_give_identical_sockets_for_the_same_table()
    {
        var ports = await OpenVarietyOfSocketsAsync();
        using var netlink = NetlinkReader.TryCreate(out var whyNot) ?? throw new InvalidOperationException(whyNot);
        var proc = new ProcNetReader("/proc");

        // Sockets can come and go between two reads (other tests run meanwhile): compare only those
        // that /proc shows identically before and after the netlink read.
        var before = Index(proc.Read(Ct).Sockets);
        var fromNetlink = Index(netlink.Read(Ct).Sockets);
        var after = Index(proc.Read(Ct).Sockets);

        var stable = before.Values.Where(s => after.TryGetValue(s.Key, out var again) && Same(s, again)).ToList();
        Assert.NotEmpty(stable);

        // Neither dump is atomic: while other processes churn, the kernel's resumable walk of a hash bucket can skip
        // a socket that stayed put. So every socket both readers list must agree; presence is required of the
        // sockets this test made and holds still (below).
        var inBoth = stable.Where(s => fromNetlink.ContainsKey(s.Key)).ToList();
        Assert.NotEmpty(inBoth);
        foreach (var socket in inBoth)
        {
            Assert.True(Same(socket, fromNetlink[socket.Key]), $"/proc: {Describe(socket)}\nnetlink: {Describe(fromNetlink[socket.Key])}");
        }

        // The sockets this test made are among them, in every shape it made, queues included.
        var ours = stable.Where(s => ports.Contains(s.Local.Port) || ports.Contains(s.Remote.Port)).ToList();
        Assert.All(ours, s => Assert.True(fromNetlink.ContainsKey(s.Key), $"netlink lacks {s}"));
        Assert.All(ours, s => Assert.True(Same(s, fromNetlink[s.Key], compareQueues: true), $"/proc: {Describe(s)}\nnetlink: {Describe(fromNetlink[s.Key])}"));
        Assert.Contains(ours, s => s.State == SocketState.Listen && s.Family == IpVersion.IPv4);
        Assert.Contains(ours, s => s.State == SocketState.Listen && s.Family == IpVersion.IPv6);
        Assert.Contains(ours, s => s.Local.Address.IsIPv4Mapped && s.State == SocketState.Established);
        Assert.Contains(ours, s => s.State == SocketState.TimeWait && s.Inode == 0);
        Assert.Contains(ours, s => s.Protocol == TransportProtocol.Udp && s.State == SocketState.Unconnected);
        Assert.Contains(ours, s => s.Protocol == TransportProtocol.Udp && s.State == SocketState.Established && s.Family == IpVersion.IPv6);
    }

    [Fact]
    public void A_reply_shorter_than_an_inet_diag_msg_is_not_a_socket()
    {
        Assert.Null(SockDiagMessages.DecodeSocket(new byte[SockDiagMessages.InetDiagMessageLength - 1], TransportProtocol.Tcp));
    }

    [Fact]
    public void A_message_is_decoded_with_network_order_ports_and_addresses()
    {
        var message = new byte[SockDiagMessages.InetDiagMessageLength];
        message[0] = SockDiagMessages.AfInet;
        message[1] = 10; // LISTEN
        message[4] = 0x1F; // sport 8080 big-endian
        message[5] = 0x90;
        message[8] = 127; // src 127.0.0.1
        message[11] = 1;
        BitConverter.TryWriteBytes(message.AsSpan(56), 3u); // rqueue: accept backlog
        BitConverter.TryWriteBytes(message.AsSpan(60), 4096u); // wqueue: backlog limit, hidden as /proc does
        BitConverter.TryWriteBytes(message.AsSpan(64), 1000u);
        BitConverter.TryWriteBytes(message.AsSpan(68), 424242u);

        var socket = SockDiagMessages.DecodeSocket(message, TransportProtocol.Tcp)!;

        Assert.Equal("127.0.0.1:8080", socket.Local.ToString());
        Assert.True(socket.Remote.IsUnspecified);
        Assert.Equal(SocketState.Listen, socket.State);
        Assert.Equal(3, socket.ReceiveQueue);
        Assert.Equal(0, socket.TransmitQueue);
        Assert.Equal(1000, socket.Uid);
        Assert.Equal(424242, socket.Inode);
    }

    private static Dictionary<SocketKey, Socket> Index(IEnumerable<Socket> sockets)
    {
        var index = new Dictionary<SocketKey, Socket>();
        foreach (var socket in sockets)
        {
            index.TryAdd(socket.Key, socket);
        }

        return index;
    }

    /// <summary>Same socket, same facts. Queues move on busy sockets from one read to the next, so they are compared
    /// only where this test controls the traffic (its own idle sockets).</summary>
    private static bool Same(Socket a, Socket b, bool compareQueues = false) =>
        a.Key == b.Key && a.Family == b.Family && a.State == b.State && a.Uid == b.Uid
        && (!compareQueues || (a.ReceiveQueue == b.ReceiveQueue && a.TransmitQueue == b.TransmitQueue));

    private static string Describe(Socket s) => $"{s} family={s.Family} uid={s.Uid} rq={s.ReceiveQueue} tq={s.TransmitQueue}";

    private async Task<HashSet<int>> OpenVarietyOfSocketsAsync()
    {
        var ports = new HashSet<int>();

        var v4 = Track(new TcpListener(IPAddress.Loopback, 0));
        v4.Start();
        ports.Add(((IPEndPoint)v4.LocalEndpoint).Port);

        var dual = new System.Net.Sockets.Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
        Track(dual);
        dual.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
        dual.Listen();
        var dualPort = ((IPEndPoint)dual.LocalEndPoint!).Port;
        ports.Add(dualPort);

        // An IPv4 client of the dual-stack listener: the accepted side shows ::ffff:127.0.0.1 in tcp6.
        var client = Track(new TcpClient(AddressFamily.InterNetwork));
        await client.ConnectAsync(IPAddress.Loopback, dualPort, Ct);
        Track(await dual.AcceptAsync(Ct));

        // A connection whose client closes first leaves the client's end in TIME_WAIT.
        var closer = new TcpClient(AddressFamily.InterNetwork);
        await closer.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)v4.LocalEndpoint).Port, Ct);
        var accepted = await v4.AcceptSocketAsync(Ct);
        closer.Client.Close();
        var sink = new byte[1];
        while (await accepted.ReceiveAsync(sink, Ct) > 0)
        {
        }

        accepted.Close();

        var udp = Track(new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)));
        ports.Add(((IPEndPoint)udp.Client.LocalEndPoint!).Port);
        var udp6 = Track(new UdpClient(new IPEndPoint(IPAddress.IPv6Loopback, 0)));
        udp6.Connect(new IPEndPoint(IPAddress.IPv6Loopback, 9));
        ports.Add(((IPEndPoint)udp6.Client.LocalEndPoint!).Port);
        return ports;
    }

    private T Track<T>(T item)
        where T : class
    {
        if (item is IDisposable disposable)
        {
            _open.Add(disposable);
        }
        else if (item is TcpListener listener)
        {
            _open.Add(new Stopper(listener));
        }

        return item;
    }

    private sealed class Stopper(TcpListener listener) : IDisposable
    {
        public void Dispose() => listener.Stop();
    }
}
