using System.Net;
using System.Net.Sockets;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Reading.Netlink;
using PortDashboard.Core.Sockets;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Core.Tests.Reading.Netlink;

/// <summary>Real loopback traffic of a known size, and the tcp_info counters the next read shows for it.</summary>
public sealed class TcpInfoLiveTests
{
    private const int Sent = 300_000;
    private const int Answered = 70_000;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed record Connection(TcpListener Listener, TcpClient Client, System.Net.Sockets.Socket Accepted, int Port) : IDisposable
    {
        public void Dispose()
        {
            Accepted.Dispose();
            Client.Dispose();
            Listener.Stop();
        }
    }

    /// <summary>A connection whose client sent <see cref="Sent"/> bytes and got <see cref="Answered"/> back, all read.</summary>
    private static async Task<Connection> TransferAsync()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port, Ct);
        var accepted = await listener.AcceptSocketAsync(Ct);
        var stream = client.GetStream();
        var sending = stream.WriteAsync(new byte[Sent], Ct).AsTask();
        await ReceiveAsync(accepted, Sent);
        await sending;
        await accepted.SendAsync(new byte[Answered], Ct);
        var buffer = new byte[Answered];
        await stream.ReadExactlyAsync(buffer, Ct);
        return new Connection(listener, client, accepted, port);
    }

    private static async Task ReceiveAsync(System.Net.Sockets.Socket socket, int count)
    {
        var buffer = new byte[65536];
        for (var got = 0; got < count;)
        {
            got += await socket.ReceiveAsync(buffer, Ct);
        }
    }

    /// <summary>Reads until the client end's counters cover the transfer (the last ACK may trail the data by a moment).</summary>
    private static (Socket Client, Socket Server) ReadUntilCounted(NetlinkReader reader, int port)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var table = reader.Read(Ct).Sockets;
            var client = table.Single(s => s.Protocol == TransportProtocol.Tcp && s.Remote.Port == port && s.State == SocketState.Established);
            var server = table.Single(s => s.Protocol == TransportProtocol.Tcp && s.Local.Port == port && s.State == SocketState.Established);
            if ((client.Tcp?.BytesAcked >= Sent && server.Tcp?.BytesAcked >= Answered) || DateTime.UtcNow > deadline)
            {
                return (client, server);
            }

            Thread.Yield();
        }
    }

    [Fact]
    public async Task The_row_shows_the_bytes_a_real_connection_moved()
    {
        using var connection = await TransferAsync();
        using var reader = new NetlinkReader();

        var (client, server) = ReadUntilCounted(reader, connection.Port);

        var (c, s) = (Assert.IsType<TcpInfo>(client.Tcp), Assert.IsType<TcpInfo>(server.Tcp));
        Assert.True(c.BytesAcked >= Sent, $"client acked {c.BytesAcked}, sent {Sent}");
        Assert.True(c.BytesReceived >= Answered, $"client received {c.BytesReceived}, answered {Answered}");
        Assert.True(s.BytesReceived >= Sent, $"server received {s.BytesReceived}");
        Assert.True(s.BytesAcked >= Answered, $"server acked {s.BytesAcked}");
        Assert.True(c.CongestionWindow > 0, "a connection has a congestion window");
        Assert.True(c.RttMicroseconds > 0, "a connection that carried data has an rtt sample");
    }

    [Fact]
    public async Task Per_family_dumps_carry_tcp_info_too()
    {
        using var connection = await TransferAsync();
        using var reader = new NetlinkReader { TcpInOneWalk = false };

        var (client, _) = ReadUntilCounted(reader, connection.Port);

        Assert.True(client.Tcp?.BytesAcked >= Sent, $"client acked {client.Tcp?.BytesAcked}");
    }

    [Fact]
    public async Task Without_the_extension_or_from_proc_net_the_figures_are_unknown_not_zero()
    {
        using var connection = await TransferAsync();
        using var without = new NetlinkReader { ReadsTcpInfo = false };
        var proc = new ProcNetReader("/proc");

        var ours = (IEnumerable<Socket> table) => table.Where(s => s.Protocol == TransportProtocol.Tcp && (s.Local.Port == connection.Port || s.Remote.Port == connection.Port)).ToList();

        Assert.All(ours(without.Read(Ct).Sockets), s => Assert.Null(s.Tcp));
        Assert.All(ours(proc.Read(Ct).Sockets), s => Assert.Null(s.Tcp));
        Assert.Equal(3, ours(proc.Read(Ct).Sockets).Count);
    }

    [Fact]
    public async Task A_connection_that_moves_is_a_new_instance_but_not_a_changed_socket_and_an_idle_one_is_reused()
    {
        using var connection = await TransferAsync();
        using var reader = new NetlinkReader();
        var snapshotter = new Snapshotter(reader, new SnapshotterOptions { AttributeOwners = false });
        var first = snapshotter.Take(Ct);
        var idle = snapshotter.Take(Ct);

        var clientKey = first.Sockets.Single(s => s.Remote.Port == connection.Port && s.Protocol == TransportProtocol.Tcp).Key;
        Assert.True(first.TryGet(clientKey, out var a));
        Assert.True(idle.TryGet(clientKey, out var b));
        Assert.Same(a, b);

        await connection.Client.GetStream().WriteAsync(new byte[10_000], Ct);
        await ReceiveAsync(connection.Accepted, 10_000);
        Snapshot moved;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        do
        {
            moved = snapshotter.Take(Ct);
        }
        while (moved.TryGet(clientKey, out var now) && now.Tcp?.BytesAcked < b.Tcp?.BytesAcked + 10_000 && DateTime.UtcNow < deadline);

        Assert.True(moved.TryGet(clientKey, out var c));
        Assert.NotSame(b, c);
        Assert.True(c.Tcp!.Value.BytesAcked >= b.Tcp!.Value.BytesAcked + 10_000, "the counters moved");
        var delta = Delta.Between(idle, moved);
        Assert.DoesNotContain(delta.Changed, change => change.After.Key == clientKey);
        // Several polls may have passed: the rate is against the one before, known either way (the connection is not new).
        Assert.NotNull(moved.Traffic.Of(c));
    }
}
