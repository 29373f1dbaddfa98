using System.Collections.Immutable;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using PortDashboard.Api;
using PortDashboard.Core.Filtering;
using PortDashboard.Core.Ports;
using PortDashboard.Fleet;
using PortDashboard.Hubs;
using PortDashboard.Tests.Support;

namespace PortDashboard.Tests.Hubs;

/// <summary>
/// The hub's fleet subscription on the real app (a fleet configured on an unreachable Redis, so the store is only what
/// the test puts in it): a bad filter is a HubException saying why; a host's snapshot, its agent's deltas in its own
/// numbering, and a resync when the host is reloaded. And the store's bounded event queue: an overflow is a resync.
/// </summary>
public sealed class FleetHubTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private static readonly ServiceNameRegistry Services = ServiceNameRegistry.LoadDefault();

    private static PortDashboardFactory Factory() => new(new Dictionary<string, string?>
    {
        ["PortDashboard:Fleet:Redis"] = "127.0.0.1:1", // refused at once: the consumer only reports it
    });

    private static SocketDto Dto(int port, long inode) =>
        new WireMapper(Services, showCommandLine: false).Socket(TestSockets.Listener(port, inode), Core.Ports.OsPortPolicy.LinuxDefault);

    /// <summary>A loaded host, offline so the consumer (Redis unreachable) leaves it as it is.</summary>
    private static FleetHost Host(long sequence, params SocketDto[] sockets) => FleetHost.New("web-1") with
    {
        Sequence = sequence,
        Instance = "i1",
        Metadata = new SnapshotMetadataDto(DateTimeOffset.UnixEpoch, 1, "web-1", "netlink", new AttributionDto("complete", 1, 0, null),
            new PortPolicyDto(32768, 60999, 1024, "test"), 0),
        Sockets = sockets.ToImmutableDictionary(s => s.Id, FleetSocket.From, StringComparer.Ordinal),
        InSync = true,
    };

    [Fact]
    public async Task A_bad_fleet_filter_is_a_hub_exception_with_the_filters_message()
    {
        await using var factory = Factory();
        await using var connection = new HubConnectionBuilder().WithUrl(new Uri(factory.Start(), SocketsHub.Path)).Build();
        await connection.StartAsync(Cancellation);
        var expected = Assert.Throws<FilterException>(() => Filter.Parse("host=web/1")).Message;
        var error = await Assert.ThrowsAsync<HubException>(() => connection.InvokeAsync<string>(nameof(SocketsHub.SubscribeFleet), "host=web/1", Cancellation));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains("bad host name 'web/1'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_subscriber_gets_the_hosts_snapshot_its_agents_deltas_and_a_resync_when_it_is_reloaded()
    {
        await using var factory = Factory();
        var baseAddress = factory.Start();
        var store = factory.Services.GetRequiredService<FleetStore>();
        var (kept, leaving, other) = (Dto(6379, 1), Dto(8080, 2), Dto(9090, 3));
        store.Set(Host(41, kept, leaving));

        var messages = Channel.CreateUnbounded<object>();
        await using var connection = new HubConnectionBuilder().WithUrl(new Uri(baseAddress, SocketsHub.Path)).Build();
        connection.On<FleetHostSnapshotMessage>(SocketsHub.FleetSnapshotMethod, m => messages.Writer.TryWrite(m));
        connection.On<FleetHostDeltaMessage>(SocketsHub.FleetDeltaMethod, m => messages.Writer.TryWrite(m));
        await connection.StartAsync(Cancellation);
        Assert.Equal("port=6379,8080&host=web-1",
            await connection.InvokeAsync<string>(nameof(SocketsHub.SubscribeFleet), "host=web-1&port=6379,8080", Cancellation));

        var first = Assert.IsType<FleetHostSnapshotMessage>(await Eventually.Within(messages.Reader.ReadAsync(Cancellation).AsTask(), "the FleetSnapshot"));
        Assert.Equal(("web-1", false, 41L), (first.Host, first.Resync, first.Snapshot.Sequence));
        Assert.Equal([kept.Id, leaving.Id], first.Snapshot.Sockets.Select(s => s.Id).Order(StringComparer.Ordinal));

        // The agent's delta 42..43: one socket leaves, one outside the filter arrives; sent with the agent's numbers.
        var before = store.Hosts["web-1"];
        var delta = new DeltaMessage(42, 43, DateTimeOffset.UnixEpoch, [other], [leaving.Id], []);
        var after = Host(43, kept, other);
        store.Set(after, [new FleetHostDelta(after, delta, before.Sockets)]);
        var change = Assert.IsType<FleetHostDeltaMessage>(await Eventually.Within(messages.Reader.ReadAsync(Cancellation).AsTask(), "the FleetDelta"));
        Assert.Equal(("web-1", 42L, 43L), (change.Host, change.Delta.FromSequence, change.Delta.ToSequence));
        Assert.Equal([leaving.Id], change.Delta.Removed);
        Assert.Empty(change.Delta.Added); // 9090 is not in port=6379,8080

        // The node reloads the host's snapshot (a gap, a trim, a Redis restart): a FleetSnapshot again, marked resync.
        var reloaded = Host(50, kept, leaving) with { Instance = "i2", Resyncs = 2 };
        store.Set(reloaded, [new FleetHostLoaded(reloaded)]);
        var resync = Assert.IsType<FleetHostSnapshotMessage>(await Eventually.Within(messages.Reader.ReadAsync(Cancellation).AsTask(), "the resync"));
        Assert.Equal((true, 50L), (resync.Resync, resync.Snapshot.Sequence));
        Assert.Equal([kept.Id, leaving.Id], resync.Snapshot.Sockets.Select(s => s.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_reader_that_falls_behind_is_resynced_from_the_current_state_without_a_gap()
    {
        var store = new FleetStore();
        store.Set(Host(1));
        var (events, hosts) = store.Subscribe(capacity: 2);
        Assert.Equal(1, hosts["web-1"].Sequence);
        for (var sequence = 2; sequence <= 4; sequence++)
        {
            var host = Host(sequence);
            store.Set(host, [new FleetHostDelta(host, new DeltaMessage(sequence, sequence, DateTimeOffset.UnixEpoch, [], [], []), host.Sockets)]);
        }

        Assert.Empty(await events.ReadAsync(store, Cancellation));
        Assert.True(events.Overflowed); // three events for a queue of two: dropped, not waited for
        Assert.Equal(4, store.Resync(events)["web-1"].Sequence);
        Assert.False(events.Overflowed);

        var next = Host(5);
        store.Set(next, [new FleetHostDelta(next, new DeltaMessage(5, 5, DateTimeOffset.UnixEpoch, [], [], []), next.Sockets)]);
        var read = await events.ReadAsync(store, Cancellation);
        Assert.Equal(5, Assert.IsType<FleetHostDelta>(Assert.Single(read)).Message.FromSequence); // follows the resync's 4
        store.Unsubscribe(events);
    }
}
