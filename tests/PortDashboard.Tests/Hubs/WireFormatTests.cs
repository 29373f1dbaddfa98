using System.Threading.Channels;
using MessagePack;
using MessagePack.Resolvers;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection;
using PortDashboard.Api;
using PortDashboard.Core.Filtering;
using PortDashboard.Core.Sockets;
using PortDashboard.Hubs;
using PortDashboard.Tests.Support;
using static PortDashboard.Tests.Support.TestSockets;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Tests.Hubs;

/// <summary>
/// The hub's two protocols as the app registers them: JSON, and MessagePack with positional arrays (the compact form),
/// its sizes for a delta of 10 changes in a 100,000-socket table and for an idle tick, and a real subscriber over it.
/// </summary>
public sealed class WireFormatTests(WebHostFixture host) : IClassFixture<WebHostFixture>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private IHubProtocol Protocol(string name) =>
        host.GetService<IEnumerable<IHubProtocol>>().Single(p => p.Name == name);

    [Fact]
    public void Over_MessagePack_a_delta_of_10_sockets_in_a_100000_socket_table_fits_in_4_KB_and_an_idle_tick_in_200_bytes()
    {
        var owner = new ProcessInfo(123_456, 98_765_432, "PortDashboard.L", 0, "root");
        var table = Enumerable.Range(0, 100_000)
            .Select(i => Connection(20_000 + (i % 40_000), 40_000 + (i % 20_000), inode: 9_000_000 + i, owners: owner))
            .ToArray();
        var before = SnapshotOf(DateTimeOffset.UnixEpoch, table);
        var opened = Enumerable.Range(0, 10).Select(i => Connection(60_000 + i, 5432, inode: 9_200_000 + i, owners: owner)).ToArray();
        var after = SnapshotOf(DateTimeOffset.UnixEpoch.AddSeconds(1), [.. table, .. opened]);
        var mapper = host.GetService<WireMapper>();
        var tenOpened = FilteredDelta.ToMessage([NumberedDelta(2, before, after)], after, Filter.Empty, mapper);
        var idle = FilteredDelta.ToMessage([NumberedDelta(3, after, after)], after, Filter.Empty, mapper);

        var messagePack = Protocol("messagepack");
        var tenBytes = Bytes(messagePack, tenOpened);
        var idleBytes = Bytes(messagePack, idle);

        Assert.Equal(10, tenOpened.Added.Count);
        Assert.True(tenBytes + 4 <= 4096, $"10 sockets opened: {tenBytes} bytes + a 4-byte WebSocket header over 4 KB");
        Assert.True(idleBytes + 2 <= 200, $"an idle tick: {idleBytes} bytes + a 2-byte WebSocket header over 200");
        Assert.True(Bytes(Protocol("json"), idle) + 2 <= 200, "an idle tick over JSON stays under 200 bytes too");
    }

    [Fact]
    public void Over_MessagePack_a_delta_is_an_array_whose_positions_are_the_documented_fields()
    {
        var listener = Listener(5432, inode: 77, TransportProtocol.Tcp);
        var before = SnapshotOf(DateTimeOffset.UnixEpoch);
        var after = SnapshotOf(DateTimeOffset.UnixEpoch.AddSeconds(1), listener);
        var message = FilteredDelta.ToMessage([NumberedDelta(5, before, after)], after, Filter.Empty, host.GetService<WireMapper>());

        var bytes = Protocol("messagepack").GetMessageBytes(new InvocationMessage(SocketsHub.DeltaMethod, [message]));
        var reader = new MessagePackReader(bytes[VarintLength(bytes.Span)..]);
        var invocation = MessagePackSerializer.Deserialize<object[]>(ref reader, ContractlessStandardResolver.Options);
        var delta = (object[])((object[])invocation[4])[0];
        var socket = (object[])((object[])delta[3])[0];
        var local = (object[])socket[3];

        Assert.Equal(("Delta", 5L, 5L), ((string)invocation[3], Convert.ToInt64(delta[0]), Convert.ToInt64(delta[1])));
        Assert.Equal(WireMapper.Id(listener.Key), socket[0]);
        Assert.Equal(("tcp", "ipv4", "listen", 77L), ((string)socket[1], (string)socket[2], (string)socket[5], Convert.ToInt64(socket[6])));
        Assert.Equal(("127.0.0.1", 5432L, "registered"), ((string)local[0], Convert.ToInt64(local[1]), (string)local[2]));
        Assert.Empty((object[])delta[4]);
        Assert.Empty((object[])delta[5]);
    }

    [Fact]
    public void Over_MessagePack_a_socket_appends_when_the_service_first_saw_it_at_positions_11_and_12()
    {
        var atStart = Listener(5432, inode: 77, TransportProtocol.Tcp);
        var later = Listener(40000, inode: 78, TransportProtocol.Tcp);
        var first = SnapshotOf(DateTimeOffset.UnixEpoch, atStart);
        var second = SnapshotOf(DateTimeOffset.UnixEpoch.AddSeconds(30), atStart, later);
        var ages = new SocketAges();
        ages.Record(first, Delta.Between(Snapshot.Empty, first));
        ages.Record(second, Delta.Between(first, second));
        var mapper = new WireMapper(host.GetService<WireMapper>().Services, showCommandLine: false, ages);
        var message = mapper.Snapshot(second, 2, Filter.Empty);

        var bytes = Protocol("messagepack").GetMessageBytes(new InvocationMessage(SocketsHub.SnapshotMethod, [message]));
        var reader = new MessagePackReader(bytes[VarintLength(bytes.Span)..]);
        var invocation = MessagePackSerializer.Deserialize<object[]>(ref reader, ContractlessStandardResolver.Options);
        var sockets = ((object[])((object[])((object[])invocation[4])[0])[4]).Cast<object[]>().ToDictionary(s => (string)s[0]);
        var old = sockets[WireMapper.Id(atStart.Key)];
        var young = sockets[WireMapper.Id(later.Key)];

        Assert.Equal(15, young.Length);
        Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(30).UtcDateTime, ((object[])young[11])[0] is DateTime t ? t : DateTime.MinValue);
        Assert.False((bool)young[12]);
        Assert.Equal(DateTimeOffset.UnixEpoch.UtcDateTime, ((object[])old[11])[0] is DateTime s ? s : DateTime.MinValue);
        Assert.True((bool)old[12], "open in the service's first snapshot: its real age is at least the one shown");
        var endpoint = (object[])young[3];
        Assert.Equal((40000L, "registered", true, false), (Convert.ToInt64(endpoint[1]), (string)endpoint[2], (bool)endpoint[3], (bool)endpoint[4]));
    }

    [Fact]
    public void Over_MessagePack_a_socket_appends_its_namespace_and_container_at_positions_13_and_14_and_its_id_names_a_foreign_namespace()
    {
        var web = new NetNamespace(4026532281, "pd-web", container: "docker:3f2a9c1b7d4e");
        var hostNamespace = new NetNamespace(4026531840, NetNamespace.HostName, isHost: true);
        var onHost = Listener(80, inode: 77, TransportProtocol.Tcp);
        var inWeb = Listener(80, inode: 78, TransportProtocol.Tcp);
        Socket Moved(Socket socket, NetNamespace netNamespace) => new(socket.Protocol, socket.Family, socket.Local, socket.Remote, socket.State,
            socket.Inode, socket.Uid, socket.TransmitQueue, socket.ReceiveQueue, socket.Owners, socket.Tcp, netNamespace);
        var snapshot = SnapshotOf(DateTimeOffset.UnixEpoch, Moved(onHost, hostNamespace), Moved(inWeb, web));
        var message = host.GetService<WireMapper>().Snapshot(snapshot, 1, Filter.Empty);

        var bytes = Protocol("messagepack").GetMessageBytes(new InvocationMessage(SocketsHub.SnapshotMethod, [message]));
        var reader = new MessagePackReader(bytes[VarintLength(bytes.Span)..]);
        var invocation = MessagePackSerializer.Deserialize<object[]>(ref reader, ContractlessStandardResolver.Options);
        var sockets = ((object[])((object[])((object[])invocation[4])[0])[4]).Cast<object[]>().ToDictionary(s => (string)s[0]);

        Assert.Equal(["tcp/127.0.0.1:80/*:*/77", "tcp/127.0.0.1:80/*:*/78@4026532281"], sockets.Keys.Order(StringComparer.Ordinal));
        var hostSocket = sockets["tcp/127.0.0.1:80/*:*/77"];
        var webSocket = sockets["tcp/127.0.0.1:80/*:*/78@4026532281"];
        Assert.Equal((4026531840L, "host"), (Convert.ToInt64(((object[])hostSocket[13])[0]), (string)((object[])hostSocket[13])[1]));
        Assert.Null(hostSocket[14]);
        Assert.Equal((4026532281L, "pd-web"), (Convert.ToInt64(((object[])webSocket[13])[0]), (string)((object[])webSocket[13])[1]));
        Assert.Equal("docker:3f2a9c1b7d4e", webSocket[14]);
        Assert.Equal(("tcp", 78L), ((string)webSocket[1], Convert.ToInt64(webSocket[6]))); // the older positions are unchanged
    }

    [Fact]
    public async Task A_MessagePack_subscriber_gets_the_snapshot_then_the_delta_that_adds_a_new_listener()
    {
        using var listener = new BoundSocket();
        var messages = Channel.CreateUnbounded<object>();
        await using var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(host.BaseAddress, SocketsHub.Path))
            .AddMessagePackProtocol()
            .Build();
        connection.On<SnapshotMessage>(SocketsHub.SnapshotMethod, m => messages.Writer.TryWrite(m));
        connection.On<DeltaMessage>(SocketsHub.DeltaMethod, m => messages.Writer.TryWrite(m));
        await connection.StartAsync(Cancellation);

        await connection.InvokeAsync<string>("Subscribe", $"port={listener.Port}&state=listen", Cancellation);
        var snapshot = Assert.IsType<SnapshotMessage>(await Next(messages));
        Assert.Empty(snapshot.Sockets);
        Assert.False(string.IsNullOrEmpty(snapshot.Metadata.Reader));

        listener.Listen();
        var deadline = DateTime.UtcNow + Eventually.DefaultTimeout;
        var sequence = snapshot.Sequence;
        while (DateTime.UtcNow < deadline)
        {
            var delta = Assert.IsType<DeltaMessage>(await Next(messages));
            Assert.Equal(sequence + 1, delta.FromSequence);
            sequence = delta.ToSequence;
            if (delta.Added.Count > 0)
            {
                var added = Assert.Single(delta.Added);
                Assert.Equal((listener.Port, "listen"), (added.Local.Port, added.State));
                Assert.Contains(added.Owners, o => o.Pid == Environment.ProcessId);
                return;
            }
        }

        Assert.Fail("no delta added the new listener in time");
    }

    private static Task<object> Next(Channel<object> messages) =>
        Eventually.Within(messages.Reader.ReadAsync(Cancellation).AsTask(), "a hub message");

    private static int Bytes(IHubProtocol protocol, object message) =>
        protocol.GetMessageBytes(new InvocationMessage(SocketsHub.DeltaMethod, [message])).Length;

    /// <summary>The length of the varint that prefixes each MessagePack hub message.</summary>
    private static int VarintLength(ReadOnlySpan<byte> bytes)
    {
        var length = 1;
        while ((bytes[length - 1] & 0x80) != 0)
        {
            length++;
        }

        return length;
    }
}
