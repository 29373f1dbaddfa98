using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Sockets;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Core.Tests.Reading;

/// <summary>Snapshots of the real kernel's table holding sockets this test opened.</summary>
public sealed class LiveSnapshotTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Snapshot Take() => Snapshotter.CreateDefault(new SnapshotterOptions()).Take(Ct);

    [Fact]
    public void One_snapshot_holds_a_listener_both_ends_of_a_connection_and_udp_sockets_all_owned_by_this_process()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var serverEndpoint = (IPEndPoint)listener.LocalEndpoint;
        using var client = new TcpClient(AddressFamily.InterNetwork);
        client.Connect(serverEndpoint);
        using var accepted = listener.AcceptTcpClient();
        var clientEndpoint = (IPEndPoint)client.Client.LocalEndPoint!;
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        using var udp6 = new UdpClient(new IPEndPoint(IPAddress.IPv6Loopback, 0));
        using var listener6 = new TcpListener(IPAddress.IPv6Loopback, 0);
        listener6.Start();

        var snapshot = Take();

        var listening = Find(snapshot, TransportProtocol.Tcp, (IPEndPoint)listener.LocalEndpoint, SocketState.Listen);
        Assert.True(listening.Remote.IsUnspecified);
        // Linux may give the same source port to connections toward other destinations: find the client's end by both endpoints.
        var clientEnd = Assert.Single(snapshot.Sockets, s => s.Local == At(clientEndpoint) && s.Remote == At(serverEndpoint));
        Assert.Equal(SocketState.Established, clientEnd.State);
        var serverEnd = Assert.Single(snapshot.Sockets, s => s.Local == At(serverEndpoint) && s.Remote == At(clientEndpoint));
        Assert.Equal(SocketState.Established, serverEnd.State);
        var udpSocket = Find(snapshot, TransportProtocol.Udp, (IPEndPoint)udp.Client.LocalEndPoint!, SocketState.Unconnected);
        var udp6Socket = Find(snapshot, TransportProtocol.Udp, (IPEndPoint)udp6.Client.LocalEndPoint!, SocketState.Unconnected);
        var listening6 = Find(snapshot, TransportProtocol.Tcp, (IPEndPoint)listener6.LocalEndpoint, SocketState.Listen);
        Assert.Equal((IpVersion.IPv6, IpVersion.IPv6), (udp6Socket.Family, listening6.Family));

        // The kernel picked the client's source port from its ephemeral range, which the snapshot carries.
        Assert.True(
            snapshot.PortPolicy.IsOsEphemeral(clientEnd.Local.Port),
            $"source port {clientEnd.Local.Port} is outside the OS ephemeral range {snapshot.PortPolicy}");
        Assert.True(snapshot.PortPolicy.Classify(clientEnd.Local.Port).IsOsEphemeral);

        var me = Assert.Single(listening.Owners);
        Assert.Equal(Environment.ProcessId, me.Pid);
        // The kernel cuts comm at 15 characters (this test host's is "PortDashboard.C"): then the executable's name shows.
        var comm = File.ReadAllText("/proc/self/comm").TrimEnd('\n');
        var executable = Path.GetFileName(new FileInfo("/proc/self/exe").LinkTarget ?? "");
        Assert.Equal(comm.Length == 15 && executable.StartsWith(comm, StringComparison.Ordinal) ? executable : comm, me.Name);
        Assert.Equal(Environment.UserName, me.UserName);
        foreach (var socket in new[] { clientEnd, serverEnd, udpSocket, udp6Socket, listening6 })
        {
            Assert.Same(me, Assert.Single(socket.Owners)); // one ProcessInfo for every socket this process holds
        }

        Assert.NotEqual(AttributionCompleteness.Unavailable, snapshot.Attribution.Completeness);
        Assert.True(snapshot.Duration > TimeSpan.Zero);
    }

    [Fact]
    public async Task The_side_that_closes_first_leaves_a_TIME_WAIT_socket_with_no_inode_and_no_owner()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var serverEndpoint = (IPEndPoint)listener.LocalEndpoint;
        var client = new TcpClient(AddressFamily.InterNetwork);
        await client.ConnectAsync(serverEndpoint, Ct);
        using var accepted = await listener.AcceptTcpClientAsync(Ct);
        var clientEndpoint = (IPEndPoint)client.Client.LocalEndPoint!;

        client.Dispose(); // the active closer: sends FIN first, so it is the side that waits in TIME_WAIT
        var stream = accepted.GetStream();
        Assert.Equal(0, await stream.ReadAsync(new byte[1], Ct)); // the server sees the FIN...
        accepted.Client.Shutdown(SocketShutdown.Send); // ...and answers with its own

        var (snapshot, timeWait) = await WaitFor(s => s.Sockets.FirstOrDefault(x =>
            x.Protocol == TransportProtocol.Tcp && x.Local == At(clientEndpoint) && x.Remote == At(serverEndpoint) && x.State == SocketState.TimeWait));

        Assert.Equal(0, timeWait.Inode);
        Assert.Empty(timeWait.Owners);
        Assert.NotEqual(AttributionCompleteness.Unavailable, snapshot.Attribution.Completeness);
    }

    /// <summary>Takes snapshots until one holds the socket <paramref name="find"/> looks for, or the deadline passes.</summary>
    private static async Task<(Snapshot Snapshot, Socket Socket)> WaitFor(Func<Snapshot, Socket?> find)
    {
        var snapshotter = Snapshotter.CreateDefault(new SnapshotterOptions());
        var watch = Stopwatch.StartNew();
        Snapshot snapshot;
        while (true)
        {
            snapshot = snapshotter.Take(Ct);
            if (find(snapshot) is { } socket)
            {
                return (snapshot, socket);
            }

            if (watch.Elapsed > Deadline)
            {
                Assert.Fail($"not seen within {Deadline.TotalSeconds} s; last snapshot:\n{string.Join("\n", snapshot.Sockets)}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), Ct);
        }
    }

    private static Endpoint At(IPEndPoint endpoint) => new(NetAddress.FromIPAddress(endpoint.Address), endpoint.Port);

    private static Socket Find(Snapshot snapshot, TransportProtocol protocol, IPEndPoint local, SocketState state)
    {
        var matches = snapshot.Sockets.Where(s => s.Protocol == protocol && s.Local == At(local) && s.State == state).ToList();
        Assert.True(matches.Count == 1, $"expected one {protocol} {state} socket on {local}, found {matches.Count} among:\n{string.Join("\n", snapshot.Sockets)}");
        return matches[0];
    }
}
