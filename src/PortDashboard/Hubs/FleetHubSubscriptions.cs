using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.AspNetCore.SignalR;
using PortDashboard.Api;
using PortDashboard.Core.Filtering;
using PortDashboard.Core.Ports;
using PortDashboard.Fleet;

namespace PortDashboard.Hubs;

/// <summary>
/// The hub's fleet subscriptions (<c>SubscribeFleet</c>), one per connection, each reading the <see cref="FleetStore"/>'s
/// events: per host in the filter's <c>host=</c>, a <c>FleetSnapshot</c>, then that host's <c>FleetDelta</c>s numbered
/// by its agent, <c>FleetStatus</c> on each status change, and a <c>FleetSnapshot</c> with <c>resync</c> when the node
/// reloads the host's snapshot. A client that reads too slowly overflows its bounded queue: it gets every host's
/// current table again (resync) instead of holding the node back. Nothing here crosses dashboard nodes: each node
/// reads the agents' streams itself, and the agents' sequence numbers are the same everywhere.
/// </summary>
public sealed class FleetHubSubscriptions(
    FleetStore store,
    ServiceNameRegistry services,
    IHubContext<SocketsHub> hub,
    ILogger<FleetHubSubscriptions> logger) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, (CancellationTokenSource Cancellation, Task Loop)> _byConnection = new();

    /// <summary>The queue bound of each subscription (a test lowers it to see a resync).</summary>
    public int EventCapacity { get; init; } = FleetStore.EventCapacity;

    public int Count => _byConnection.Count;

    public async Task StartAsync(string connectionId, Filter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        await StopAsync(connectionId); // a connection's hub calls run one at a time
        var cancellation = new CancellationTokenSource();
        var (events, hosts) = store.Subscribe(EventCapacity); // before returning: no event after Subscribe is missed
        _byConnection[connectionId] = (cancellation, Task.Run(() => RunAsync(connectionId, filter, events, hosts, cancellation.Token)));
        logger.LogDebug("Hub connection {ConnectionId} subscribed to the fleet with filter '{Filter}'", connectionId, filter);
    }

    public async Task StopAsync(string connectionId)
    {
        if (_byConnection.TryRemove(connectionId, out var subscription))
        {
            await subscription.Cancellation.CancelAsync();
            await subscription.Loop;
            subscription.Cancellation.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connectionId in _byConnection.Keys)
        {
            await StopAsync(connectionId);
        }
    }

    /// <summary>One host's table in <paramref name="filter"/>'s view; null before its first snapshot.</summary>
    public static FleetHostSnapshotMessage? Snapshot(FleetHost host, Filter filter, ServiceNameRegistry services, bool resync)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (host.Metadata is null)
        {
            return null;
        }

        var sockets = host.Matching(filter, services).Select(s => s.Dto).OrderBy(s => s.Id, StringComparer.Ordinal).ToList();
        return new FleetHostSnapshotMessage(host.Name, host.StatusName, resync,
            new SnapshotMessage(host.Sequence, filter.ToQueryString(), host.Metadata, host.Sockets.Count, sockets));
    }

    /// <summary>
    /// One agent delta in <paramref name="filter"/>'s view, its sequence numbers kept: a changed socket that enters the
    /// view is added, one that leaves it removed; a removed socket is sent only if it was in the view.
    /// </summary>
    public static FleetHostDeltaMessage Delta(FleetHostDelta change, Filter filter, ServiceNameRegistry services)
    {
        ArgumentNullException.ThrowIfNull(change);
        var inView = change.Host.InView(filter, services);
        var message = change.Message;
        var added = new List<SocketDto>();
        var removed = new List<string>();
        var changed = new List<SocketDto>();
        foreach (var dto in message.Added)
        {
            if (inView(Socket(change.Host, dto)))
            {
                added.Add(dto);
            }
        }

        foreach (var id in message.Removed)
        {
            if (change.Before.TryGetValue(id, out var before) && inView(before))
            {
                removed.Add(id);
            }
        }

        foreach (var dto in message.Changed)
        {
            var wasInView = change.Before.TryGetValue(dto.Id, out var before) && inView(before);
            switch (wasInView, inView(Socket(change.Host, dto)))
            {
                case (true, true):
                    changed.Add(dto);
                    break;
                case (false, true):
                    added.Add(dto);
                    break;
                case (true, false):
                    removed.Add(dto.Id);
                    break;
            }
        }

        var counters = message.Counters?.Where(c => change.Host.Sockets.TryGetValue(c.Id, out var s) && inView(s)).ToList();
        return new FleetHostDeltaMessage(change.Host.Name, message with { Added = added, Removed = removed, Changed = changed, Counters = counters });
    }

    public static FleetHostStatusMessage Status(FleetHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        return new FleetHostStatusMessage(host.Name, host.StatusName, host.LastSeen, host.Sequence);
    }

    /// <summary>The socket as this delta wrote it (the host's table may already be a later delta's).</summary>
    private static FleetSocket Socket(FleetHost host, SocketDto dto) =>
        host.Sockets.TryGetValue(dto.Id, out var known) && ReferenceEquals(known.Dto, dto) ? known : FleetSocket.From(dto);

    private async Task RunAsync(string connectionId, Filter filter, FleetEvents events, ImmutableSortedDictionary<string, FleetHost> hosts, CancellationToken cancellationToken)
    {
        var client = hub.Clients.Client(connectionId);
        var started = new HashSet<string>(StringComparer.Ordinal); // hosts whose first FleetSnapshot was sent
        var resyncs = 0;
        try
        {
            await SendAllAsync(client, filter, hosts, started, cancellationToken);
            while (true)
            {
                var batch = await events.ReadAsync(store, cancellationToken);
                if (events.Overflowed)
                {
                    logger.LogWarning(
                        "Hub connection {ConnectionId} fell behind on the fleet (its client reads too slowly); sending it every host's table again ({Resyncs} so far)",
                        connectionId, ++resyncs);
                    await SendAllAsync(client, filter, store.Resync(events), started, cancellationToken);
                    continue;
                }

                foreach (var e in batch.Where(e => filter.MatchesHost(e.Host.Name)))
                {
                    switch (e)
                    {
                        case FleetHostLoaded loaded:
                            await SendSnapshotAsync(client, filter, loaded.Host, started, cancellationToken);
                            break;
                        case FleetHostDelta delta when started.Contains(delta.Host.Name):
                            await client.SendAsync(SocketsHub.FleetDeltaMethod, Delta(delta, filter, services), cancellationToken);
                            break;
                        case FleetHostStatusChanged status:
                            await client.SendAsync(SocketsHub.FleetStatusMethod, Status(status.Host), cancellationToken);
                            break;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // unsubscribed, disconnected or stopping
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogError(e, "The fleet hub subscription of connection {ConnectionId} failed and was ended", connectionId);
            _byConnection.TryRemove(connectionId, out _);
        }
        finally
        {
            store.Unsubscribe(events);
        }
    }

    private async Task SendAllAsync(ISingleClientProxy client, Filter filter, ImmutableSortedDictionary<string, FleetHost> hosts, HashSet<string> started, CancellationToken cancellationToken)
    {
        foreach (var host in hosts.Values.Where(h => filter.MatchesHost(h.Name)))
        {
            if (host.Metadata is null)
            {
                await client.SendAsync(SocketsHub.FleetStatusMethod, Status(host), cancellationToken);
            }
            else
            {
                await SendSnapshotAsync(client, filter, host, started, cancellationToken);
            }
        }
    }

    private async Task SendSnapshotAsync(ISingleClientProxy client, Filter filter, FleetHost host, HashSet<string> started, CancellationToken cancellationToken)
    {
        if (Snapshot(host, filter, services, resync: !started.Add(host.Name)) is { } message)
        {
            await client.SendAsync(SocketsHub.FleetSnapshotMethod, message, cancellationToken);
        }
    }
}
