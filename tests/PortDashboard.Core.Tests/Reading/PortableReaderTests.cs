using System.Net;
using System.Net.Sockets;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Sockets;
using static PortDashboard.Core.Tests.Reading.ProcNetTestSupport;
using NetTcpState = System.Net.NetworkInformation.TcpState;

namespace PortDashboard.Core.Tests.Reading;

public class PortableReaderTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public void Reads_this_machine_s_real_listeners_and_connections()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var client = new TcpClient(AddressFamily.InterNetwork);
        client.Connect(IPAddress.Loopback, port);
        var clientPort = ((IPEndPoint)client.Client.LocalEndPoint!).Port;
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var udpPort = ((IPEndPoint)udp.Client.LocalEndPoint!).Port;

        var reader = new PortableReader();
        SocketTableRead read = null!;
        var seen = WaitUntil(
            () =>
            {
                read = reader.Read(Token);
                return read.Sockets.Any(s => s.Local.Port == port && s.Remote.Port == clientPort);
            },
            TimeSpan.FromSeconds(10));

        Assert.True(seen, "the accepted end of our connection never appeared");
        var listen = Assert.Single(read.Sockets, s => s.Protocol == TransportProtocol.Tcp && s.Local.Port == port && s.State == SocketState.Listen);
        Assert.Equal($"127.0.0.1:{port}", listen.Local.ToString());
        Assert.True(listen.Remote.IsUnspecified);
        Assert.Equal((0L, -1), (listen.Inode, listen.Uid)); // the portable reader knows neither
        Assert.Contains(read.Sockets, s => s.Local.Port == clientPort && s.Remote.Port == port && s.State == SocketState.Established);
        var bound = Assert.Single(read.Sockets, s => s.Protocol == TransportProtocol.Udp && s.Local.Port == udpPort);
        Assert.Equal(SocketState.Unconnected, bound.State);
        Assert.Equal(read.Sockets.Count, read.Sockets.Select(s => s.Key).Distinct().Count());
        Assert.Equal(0, read.Malformed.Count);
    }

    [Fact]
    public void Is_chosen_when_the_proc_root_has_no_net_tcp_and_the_snapshot_says_so()
    {
        using var root = CreateTempDirectory();
        root.Write("net/udp", FixtureTable("loopback-mix", "udp"));
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var reader = SocketTableReaders.CreateDefault(root.Path);
        var snapshot = Snapshotter.CreateDefault(new SnapshotterOptions { ProcRoot = root.Path }).Take(Token);

        Assert.IsType<PortableReader>(reader);
        Assert.Equal("portable", snapshot.Reader);
        Assert.Equal(AttributionCompleteness.Unavailable, snapshot.Attribution.Completeness);
        Assert.Contains(snapshot.Sockets, s => s.Local.Port == port && s.State == SocketState.Listen);
    }

    [Fact]
    public void The_proc_net_reader_is_chosen_when_net_tcp_exists()
    {
        var reader = SocketTableReaders.CreateDefault(FixtureRoot("ipv4-only"));

        Assert.IsType<ProcNetReader>(reader);
        Assert.Equal("proc-net", reader.Name);
        Assert.True(reader.SupportsAttribution);
    }

    [Theory]
    [InlineData(NetTcpState.Established, SocketState.Established)]
    [InlineData(NetTcpState.SynSent, SocketState.SynSent)]
    [InlineData(NetTcpState.SynReceived, SocketState.SynRecv)]
    [InlineData(NetTcpState.FinWait1, SocketState.FinWait1)]
    [InlineData(NetTcpState.FinWait2, SocketState.FinWait2)]
    [InlineData(NetTcpState.TimeWait, SocketState.TimeWait)]
    [InlineData(NetTcpState.Closed, SocketState.Close)]
    [InlineData(NetTcpState.CloseWait, SocketState.CloseWait)]
    [InlineData(NetTcpState.LastAck, SocketState.LastAck)]
    [InlineData(NetTcpState.Listen, SocketState.Listen)]
    [InlineData(NetTcpState.Closing, SocketState.Closing)]
    [InlineData(NetTcpState.DeleteTcb, SocketState.Unknown)]
    [InlineData(NetTcpState.Unknown, SocketState.Unknown)]
    public void Maps_every_NET_TCP_state(NetTcpState state, SocketState expected) =>
        Assert.Equal(expected, PortableReader.Map(state));
}
