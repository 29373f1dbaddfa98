using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using PortDashboard.Api;
using PortDashboard.Core.Filtering;
using PortDashboard.Monitoring;

namespace PortDashboard.Hubs;

/// <summary>
/// The hub's subscriptions, one per connection: each reads its own feed subscription and sends the connection its
/// filtered <c>Snapshot</c> and <c>Delta</c> messages. Hub instances live for one call; the loops live here, and end
/// on <c>Unsubscribe</c>, on disconnect, or when the app stops. A client that reads slowly only slows its own loop;
/// the feed then resyncs it with a fresh <c>Snapshot</c>.
/// </summary>
public sealed class HubSubscriptions(
    ISnapshotFeed feed,
    WireMapper mapper,
    IHubContext<SocketsHub> hub,
    ILogger<HubSubscriptions> logger) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Subscription> _byConnection = new();
    private int _sending;

    /// <summary>Connections with a running subscription.</summary>
    public int Count => _byConnection.Count;

    /// <summary>
    /// Subscriptions whose last message the connection has not taken yet: a send waits while the client's transport
    /// buffer is full (a client that stopped reading holds one here, at most, until it reads or is disconnected).
    /// </summary>
    public int SendsWaiting => Volatile.Read(ref _sending);

    public async Task StartAsync(string connectionId, Filter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);

        // A connection's hub calls run one at a time, so nothing races this replacement.
        await StopAsync(connectionId);
        var subscription = new Subscription(filter);
        _byConnection[connectionId] = subscription;
        subscription.Start(() => RunAsync(connectionId, subscription));
        logger.LogDebug("Hub connection {ConnectionId} subscribed with filter '{Filter}'", connectionId, filter);
    }

    public async Task StopAsync(string connectionId)
    {
        if (_byConnection.TryRemove(connectionId, out var subscription))
        {
            await subscription.StopAsync();
            logger.LogDebug("Hub connection {ConnectionId} unsubscribed", connectionId);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connectionId in _byConnection.Keys)
        {
            await StopAsync(connectionId);
        }
    }

    private async Task RunAsync(string connectionId, Subscription subscription)
    {
        var cancellationToken = subscription.Token;
        var client = hub.Clients.Client(connectionId);
        var resyncs = -1; // the first Snapshot is the start, not a resync
        try
        {
            await foreach (var batch in feed.SubscribeAsync(cancellationToken))
            {
                if (batch.IsResync)
                {
                    if (++resyncs > 0)
                    {
                        logger.LogWarning(
                            "Hub connection {ConnectionId} fell behind (its client reads too slowly); sending it a fresh Snapshot at sequence {Sequence} ({Resyncs} so far)",
                            connectionId, batch.Sequence, resyncs);
                    }

                    var message = mapper.Snapshot(batch.Latest, batch.Sequence, subscription.Filter);
                    subscription.Counters.Restart(batch.Latest);
                    await SendAsync(client, SocketsHub.SnapshotMethod, message, cancellationToken);
                }
                else
                {
                    var message = FilteredDelta.ToMessage(batch.Deltas, batch.Latest, subscription.Filter, mapper) with
                    {
                        Counters = subscription.Counters.Next(batch.Latest, subscription.Filter, mapper),
                    };
                    await SendAsync(client, SocketsHub.DeltaMethod, message, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // unsubscribed, disconnected or stopping
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogError(e, "The hub subscription of connection {ConnectionId} failed and was ended", connectionId);
            if (_byConnection.TryRemove(new KeyValuePair<string, Subscription>(connectionId, subscription)))
            {
                subscription.Dispose();
            }
        }
    }

    private async Task SendAsync(ISingleClientProxy client, string method, object message, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _sending);
        try
        {
            await client.SendAsync(method, message, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _sending);
        }
    }

    private sealed class Subscription(Filter filter) : IDisposable
    {
        private readonly CancellationTokenSource _cancellation = new();
        private Task _loop = Task.CompletedTask;

        public Filter Filter { get; } = filter;

        /// <summary>When this subscription's deltas carry moving counters next.</summary>
        public CounterUpdates Counters { get; } = new(CounterUpdates.DefaultInterval);

        public CancellationToken Token => _cancellation.Token;

        public void Start(Func<Task> loop) => _loop = Task.Run(loop);

        public async Task StopAsync()
        {
            await _cancellation.CancelAsync();
            await _loop;
            Dispose();
        }

        public void Dispose() => _cancellation.Dispose();
    }
}
