using System.Net;
using System.Net.Sockets;
using PortDashboard.Core.Reading.Netlink;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Core.Tests.Reading.Netlink;

public sealed class SocketDestroyWatcherTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Connections_opened_and_closed_between_two_polls_are_each_seen_closing()
    {
        // Tests run as root here, which has CAP_NET_ADMIN.
        await using var watcher = SocketDestroyWatcher.TryStart(out var whyNot)
            ?? throw new InvalidOperationException($"needs CAP_NET_ADMIN: {whyNot}");
        using var listener = new System.Net.Sockets.Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(2048);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        const int connections = 1000;

        var clientPorts = new HashSet<int>();
        for (var i = 0; i < connections; i++)
        {
            using var client = new System.Net.Sockets.Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(listener.LocalEndPoint!, Ct);
            using var accepted = await listener.AcceptAsync(Ct);
            clientPorts.Add(((IPEndPoint)client.LocalEndPoint!).Port);
        }

        // Each connection's two full sockets are destroyed: the client's (toward the listener) and the server's.
        var seenClients = new HashSet<int>();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));
        while (seenClients.Count < connections)
        {
            var destroyed = await watcher.Destroyed.ReadAsync(deadline.Token);
            var socket = destroyed.Socket;
            if (socket.Protocol == TransportProtocol.Tcp && socket.Remote.Port == port && clientPorts.Contains(socket.Local.Port))
            {
                seenClients.Add(socket.Local.Port);
                Assert.True(socket.Local.Address.IsLoopback);
            }
        }

        Assert.Equal(connections, seenClients.Count);
        Assert.Equal(0, watcher.Dropped);
    }

    [Fact]
    public void The_protocol_attribute_is_read_from_the_message_tail()
    {
        var payload = new byte[SockDiagMessages.InetDiagMessageLength + 8];
        payload[SockDiagMessages.InetDiagMessageLength] = 5; // nla_len
        payload[SockDiagMessages.InetDiagMessageLength + 2] = 10; // INET_DIAG_PROTOCOL
        payload[SockDiagMessages.InetDiagMessageLength + 4] = SockDiagMessages.IpProtoUdp;

        Assert.Equal(TransportProtocol.Udp, SocketDestroyWatcher.ProtocolOf(payload));
        Assert.Null(SocketDestroyWatcher.ProtocolOf(payload.AsSpan(0, SockDiagMessages.InetDiagMessageLength)));
    }
}
