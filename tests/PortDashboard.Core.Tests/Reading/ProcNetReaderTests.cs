using System.Net;
using System.Net.Sockets;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Sockets;
using static PortDashboard.Core.Tests.Reading.ProcNetTestSupport;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Core.Tests.Reading;

public class ProcNetReaderTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public void Reads_all_four_tables_of_a_fixture_root_in_order()
    {
        var read = new ProcNetReader(FixtureRoot("loopback-mix")).Read(Token);

        Assert.Equal(0, read.Malformed.Count);
        Assert.Equal(
            ["TCP IPv4 x10", "TCP IPv6 x6", "UDP IPv4 x3", "UDP IPv6 x3"],
            read.Sockets.GroupBy(s => (s.Protocol, s.Family)).Select(g => $"{g.Key.Protocol.ToDisplayName()} {g.Key.Family} x{g.Count()}"));
        Assert.Contains(read.Sockets, s => Describe(s) == "TCP IPv6 [::ffff:127.0.0.1]:18082 [::ffff:127.0.0.1]:40000 ESTABLISHED q=0:100 uid=0 inode=49340");
        Assert.Contains(read.Sockets, s => Describe(s) == "UDP IPv6 [::1]:18095 [::1]:18093 ESTABLISHED q=0:0 uid=0 inode=50401");
    }

    [Fact]
    public void A_root_without_tcp6_and_udp6_is_read_without_them()
    {
        var read = new ProcNetReader(FixtureRoot("ipv4-only")).Read(Token);

        Assert.Equal(0, read.Malformed.Count);
        Assert.Equal(11, read.Sockets.Count);
        Assert.All(read.Sockets, s => Assert.Equal(IpVersion.IPv4, s.Family));
        Assert.Equal(
            [
                "TCP IPv4 127.0.0.1:18180 0.0.0.0:0 LISTEN q=0:0 uid=0 inode=50863",
                "TCP IPv4 127.0.0.1:18180 127.0.0.1:38978 ESTABLISHED q=0:3 uid=0 inode=50865",
                "TCP IPv4 127.0.0.1:38978 127.0.0.1:18180 ESTABLISHED q=0:2000 uid=0 inode=50864",
                "UDP IPv4 0.0.0.0:18190 0.0.0.0:0 UNCONN q=0:0 uid=0 inode=50866",
            ],
            read.Sockets.Where(s => s.Local.Port is 18180 or 18190 || s.Remote.Port == 18180).Select(Describe));
    }

    [Theory]
    [InlineData("empty")]
    [InlineData("header-only")]
    public void A_root_whose_tcp_table_has_no_sockets_reads_an_empty_table(string fixture)
    {
        var read = new ProcNetReader(FixtureRoot(fixture)).Read(Token);

        Assert.Empty(read.Sockets);
        Assert.Equal(0, read.Malformed.Count);
    }

    [Fact]
    public void A_root_without_net_tcp_throws_an_exception_that_names_the_file_and_the_way_out()
    {
        using var root = CreateTempDirectory();
        root.Write("net/udp", FixtureTable("loopback-mix", "udp"));
        var tcpPath = Path.Combine(root.Path, "net", "tcp");

        Assert.False(ProcNetReader.IsAvailable(root.Path));
        var error = Assert.Throws<FileNotFoundException>(() => new ProcNetReader(root.Path).Read(Token));

        Assert.Equal(tcpPath, error.FileName);
        Assert.Equal(
            $"{tcpPath} does not exist, so {root.Path} is not a Linux proc root with socket tables "
            + "(mount the host's /proc there, or use the portable reader).",
            error.Message);
    }

    [Fact]
    public void A_proc_root_that_does_not_exist_throws_the_same_clear_exception()
    {
        var missing = Path.Combine(Path.GetTempPath(), "portdashboard-no-such-proc-" + Guid.NewGuid().ToString("N"));

        var error = Assert.Throws<FileNotFoundException>(() => new ProcNetReader(missing).Read(Token));

        Assert.Contains($"{missing} is not a Linux proc root", error.Message);
    }

    [Fact]
    public void One_reader_grows_its_buffer_for_a_big_table_and_reuses_it_for_a_small_one()
    {
        using var root = CreateTempDirectory();
        var (bigText, bigRows) = ProcNetTableGenerator.Tcp(5_000); // ~750 KB, past the first 64 KB buffer
        root.Write("net/tcp", bigText);
        var reader = new ProcNetReader(root.Path);

        var big = reader.Read(Token);
        root.Write("net/tcp", FixtureTable("ipv4-only", "tcp"));
        var small = reader.Read(Token);

        Assert.Equal(bigRows.Select(r => r.Inode), big.Sockets.Select(s => s.Inode));
        Assert.Equal(0, big.Malformed.Count);
        Assert.Equal(10, small.Sockets.Count); // nothing left over from the bigger read
        Assert.Equal(0, small.Malformed.Count);
    }

    [Fact]
    public void Reads_this_machine_s_kernel_tables_with_our_own_sockets_in_them()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var listenPort = ((IPEndPoint)listener.LocalEndpoint).Port;

        using var dualStack = new System.Net.Sockets.Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
        dualStack.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
        dualStack.Listen();
        var dualPort = ((IPEndPoint)dualStack.LocalEndPoint!).Port;

        using var client = new TcpClient(AddressFamily.InterNetwork);
        client.Connect(IPAddress.Loopback, dualPort);
        var clientPort = ((IPEndPoint)client.Client.LocalEndPoint!).Port;

        using var unconnected = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        using var connected = new UdpClient(new IPEndPoint(IPAddress.IPv6Loopback, 0));
        connected.Connect(IPAddress.IPv6Loopback, 9); // UDP connect needs no peer

        var reader = new ProcNetReader("/proc");
        SocketTableRead read = null!;
        var seen = WaitUntil(
            () =>
            {
                // The handshake completes in the kernel: the accepted end appears and waits in the listener's backlog.
                read = reader.Read(Token);
                return read.Sockets.Any(s => s.Local.Port == dualPort && s.State == SocketState.Established)
                    && read.Sockets.Any(s => s.Local.Port == dualPort && s.State == SocketState.Listen && s.ReceiveQueue == 1);
            },
            Deadline);

        Assert.True(seen, "the accepted end of the IPv4 connection to the dual-stack listener never appeared in /proc/net/tcp6 with a backlog of 1");
        Assert.Equal(0, read.Malformed.Count);
        var uid = OurUid();

        var listen = Assert.Single(read.Sockets, s => s.Protocol == TransportProtocol.Tcp && s.Local.Port == listenPort);
        Assert.Equal($"TCP IPv4 127.0.0.1:{listenPort} 0.0.0.0:0 LISTEN q=0:0 uid={uid} inode={InodeOf(listener.Server)}", Describe(listen));

        var dual = Assert.Single(read.Sockets, s => s.Local.Port == dualPort && s.State == SocketState.Listen);
        Assert.Equal($"TCP IPv6 [::]:{dualPort} [::]:0 LISTEN q=0:1 uid={uid} inode={InodeOf(dualStack)}", Describe(dual)); // rx_queue of a listener: its backlog

        var clientEnd = Assert.Single(read.Sockets, s => s.Local.Port == clientPort && s.Remote.Port == dualPort);
        Assert.Equal($"TCP IPv4 127.0.0.1:{clientPort} 127.0.0.1:{dualPort} ESTABLISHED q=0:0 uid={uid} inode={InodeOf(client.Client)}", Describe(clientEnd));

        var acceptedEnd = Assert.Single(read.Sockets, s => s.Local.Port == dualPort && s.Remote.Port == clientPort);
        Assert.Equal(IpVersion.IPv6, acceptedEnd.Family);
        Assert.Equal($"[::ffff:127.0.0.1]:{dualPort} [::ffff:127.0.0.1]:{clientPort} ESTABLISHED", $"{Describe(acceptedEnd.Local)} {Describe(acceptedEnd.Remote)} {acceptedEnd.State.ToDisplayName()}");

        var udpPort = ((IPEndPoint)unconnected.Client.LocalEndPoint!).Port;
        var udp = Assert.Single(read.Sockets, s => s.Protocol == TransportProtocol.Udp && s.Local.Port == udpPort && s.Family == IpVersion.IPv4);
        Assert.Equal($"UDP IPv4 127.0.0.1:{udpPort} 0.0.0.0:0 UNCONN q=0:0 uid={uid} inode={InodeOf(unconnected.Client)}", Describe(udp));

        var connectedPort = ((IPEndPoint)connected.Client.LocalEndPoint!).Port;
        var udp6 = Assert.Single(read.Sockets, s => s.Protocol == TransportProtocol.Udp && s.Local.Port == connectedPort && s.Family == IpVersion.IPv6);
        Assert.Equal($"UDP IPv6 [::1]:{connectedPort} [::1]:9 ESTABLISHED q=0:0 uid={uid} inode={InodeOf(connected.Client)}", Describe(udp6));
    }

    /// <summary>The socket inode behind a descriptor of this process, from <c>/proc/self/fd</c>.</summary>
    private static long InodeOf(System.Net.Sockets.Socket socket)
    {
        var fd = socket.SafeHandle.DangerousGetHandle().ToInt64();
        var target = new FileInfo($"/proc/self/fd/{fd}").LinkTarget ?? throw new InvalidOperationException($"fd {fd} is not a link");
        Assert.StartsWith("socket:[", target);
        return long.Parse(target["socket:[".Length..^1]);
    }

    /// <summary>Our effective uid, from <c>/proc/self/status</c> ("Uid: real effective saved fs").</summary>
    private static int OurUid()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal));
        return int.Parse(line.Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[2]);
    }
}
