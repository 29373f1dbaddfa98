using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using PortDashboard.Core.Sockets;
using PortDashboard.Hosting;

namespace PortDashboard.Monitoring;

/// <summary>
/// The live feed: the snapshot service publishes each snapshot with the delta that leads to it; every subscriber
/// reads its own bounded channel (single reader, single writer), so a slow one never holds up the service or the
/// others. A subscriber whose channel is full is marked for a resync: its backlog is dropped and it gets the current
/// snapshot instead. The subscriber set is immutable and swapped atomically; a subscription removes itself when its
/// enumeration ends (cancelled, disposed or faulted).
/// </summary>
public sealed class SnapshotFeed : ISnapshotFeed
{
    private readonly TimeProvider _time;
    private readonly ILogger<SnapshotFeed> _logger;
    private readonly TimeSpan _minimumBatchInterval;
    private readonly int _backlog;
    private ImmutableHashSet<Subscriber> _subscribers = [];
    private volatile Published _latest = new(Snapshot.Empty, null, 0);
    private volatile SnapshotServiceStatus _status;
    private long _resyncs;
    private long _nextSubscriberId;
    private long _startedAtUtcTicks;

    public SnapshotFeed(IOptions<PortDashboardOptions> options, TimeProvider time, ILogger<SnapshotFeed> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var value = options.Value;
        _time = time;
        _logger = logger;
        _minimumBatchInterval = value.MinimumBatchInterval;
        _backlog = value.SubscriberBacklog;
        History = new DeltaHistory(value.DeltaHistory, value.DeltaHistoryChanges);
        _status = new SnapshotServiceStatus(value.PollInterval, null, null, 0);
    }

    public Snapshot Current => _latest.Snapshot;

    public long Sequence => _latest.Sequence;

    public FeedBatch CurrentBatch => Resync(_latest);

    public SnapshotServiceStatus Status => _status;

    public event Action<SnapshotServiceStatus>? StatusChanged;

    /// <summary>The latest deltas (bounded by <c>PortDashboard:DeltaHistory</c> deltas and <c>PortDashboard:DeltaHistoryChanges</c> changes).</summary>
    public DeltaHistory History { get; }

    /// <summary>When the snapshot service started polling, or null before (for /healthz's grace period).</summary>
    public DateTimeOffset? StartedAt
    {
        get
        {
            var ticks = Interlocked.Read(ref _startedAtUtcTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    /// <summary>Subscriptions currently open.</summary>
    public int SubscriberCount => Volatile.Read(ref _subscribers).Count;

    /// <summary>
    /// Published snapshots waiting in the subscribers' channels: summed over them, and the longest. Each channel holds
    /// at most <c>PortDashboard:SubscriberBacklog</c>, so a stalled subscriber's share stops there.
    /// </summary>
    public (int Total, int Longest) Backlog
    {
        get
        {
            var (total, longest) = (0, 0);
            foreach (var subscriber in Volatile.Read(ref _subscribers))
            {
                var queued = subscriber.Queued;
                total += queued;
                longest = Math.Max(longest, queued);
            }

            return (total, longest);
        }
    }

    /// <summary>How many times a subscriber fell behind and was resynced, since start.</summary>
    public long ResyncCount => Interlocked.Read(ref _resyncs);

    /// <summary>When the service first saw each open socket (recorded as snapshots are published).</summary>
    public SocketAges Ages { get; } = new();

    /// <summary>Called once by the snapshot service when it starts polling.</summary>
    public void MarkStarted(DateTimeOffset at) => Interlocked.Exchange(ref _startedAtUtcTicks, at.UtcTicks);

    /// <summary>
    /// Publishes <paramref name="snapshot"/> and the delta that leads to it (numbered: <see cref="Delta.Sequence"/>
    /// must follow <see cref="Sequence"/>). Called by one writer, the snapshot service; never blocks.
    /// </summary>
    public void Publish(Snapshot snapshot, Delta delta)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(delta);
        var previous = _latest;
        if (delta.Sequence != previous.Sequence + 1)
        {
            throw new ArgumentException($"Delta {delta.Sequence} does not follow {previous.Sequence}.", nameof(delta));
        }

        var published = new Published(snapshot, delta, delta.Sequence);
        History.Add(delta);
        Ages.Record(snapshot, delta); // before anyone can see the snapshot, so its sockets' ages are there

        // One reference holds the snapshot and its sequence: a reader never pairs one with the other's neighbour.
        // It is set before the channels are written, so a resync that reads it covers whatever it drops.
        _latest = published;
        foreach (var subscriber in Volatile.Read(ref _subscribers))
        {
            if (!subscriber.TryWrite(published) && subscriber.RequestResync())
            {
                var total = Interlocked.Increment(ref _resyncs);
                _logger.LogWarning(
                    "Subscriber {SubscriberId} fell {Backlog} deltas behind at sequence {Sequence}; dropping its backlog and resyncing it ({ResyncCount} resyncs so far)",
                    subscriber.Id, _backlog, published.Sequence, total);
            }
        }
    }

    /// <summary>Sets the service's status and tells <see cref="StatusChanged"/>'s handlers.</summary>
    public void UpdateStatus(SnapshotServiceStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        if (status == _status)
        {
            return;
        }

        _status = status;
        var handlers = StatusChanged;
        if (handlers is null)
        {
            return;
        }

        foreach (var handler in handlers.GetInvocationList().Cast<Action<SnapshotServiceStatus>>())
        {
            try
            {
                handler(status);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _logger.LogError(e, "A StatusChanged handler failed; the feed carries on");
            }
        }
    }

    public async IAsyncEnumerable<FeedBatch> SubscribeAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var subscriber = new Subscriber(Interlocked.Increment(ref _nextSubscriberId), _backlog);

        // Registered before the first resync reads the latest snapshot: nothing published after that is missed.
        ImmutableInterlocked.Update(ref _subscribers, static (set, s) => set.Add(s), subscriber);
        try
        {
            var current = _latest;
            yield return Resync(current);
            var last = current.Sequence;
            var deltas = ImmutableArray.CreateBuilder<Delta>();
            while (await WaitToReadAsync(subscriber, cancellationToken))
            {
                if (subscriber.TakeResyncRequest())
                {
                    subscriber.DrainAll();
                    current = _latest;
                    last = current.Sequence;
                    yield return Resync(current);
                }
                else
                {
                    Published? newest = null;
                    var gap = false;
                    while (subscriber.TryRead(out var item))
                    {
                        if (item.Sequence <= last)
                        {
                            continue; // already covered by the resync this subscriber started from
                        }

                        if (item.Sequence != last + 1)
                        {
                            gap = true; // cannot happen without a resync request; never hand out a gap regardless
                            break;
                        }

                        deltas.Add(item.Delta!);
                        last = item.Sequence;
                        newest = item;
                    }

                    if (gap)
                    {
                        subscriber.DrainAll();
                        current = _latest;
                        last = current.Sequence;
                        deltas.Clear();
                        yield return Resync(current);
                    }
                    else if (newest is not null)
                    {
                        yield return new FeedBatch(newest.Snapshot, deltas.DrainToImmutable(), IsResync: false, newest.Sequence);
                    }
                }

                // Throttle at the source: whatever arrives meanwhile goes into the next batch.
                if (!await DelayAsync(_minimumBatchInterval, cancellationToken))
                {
                    yield break;
                }
            }
        }
        finally
        {
            ImmutableInterlocked.Update(ref _subscribers, static (set, s) => set.Remove(s), subscriber);
        }
    }

    private static FeedBatch Resync(Published published) =>
        new(published.Snapshot, [], IsResync: true, published.Sequence);

    private static async ValueTask<bool> WaitToReadAsync(Subscriber subscriber, CancellationToken cancellationToken)
    {
        try
        {
            return await subscriber.WaitToReadAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private async ValueTask<bool> DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        if (delay <= TimeSpan.Zero)
        {
            return !cancellationToken.IsCancellationRequested;
        }

        try
        {
            await Task.Delay(delay, _time, cancellationToken);
            return true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>A snapshot with the delta that led to it (null only for the initial empty snapshot).</summary>
    private sealed record Published(Snapshot Snapshot, Delta? Delta, long Sequence);

    private sealed class Subscriber(long id, int capacity)
    {
        private readonly Channel<Published> _channel = Channel.CreateBounded<Published>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails instead of waiting: the writer never blocks
        });

        private int _resyncRequested;

        public long Id { get; } = id;

        public bool TryWrite(Published item) => _channel.Writer.TryWrite(item);

        public int Queued => _channel.Reader.Count;

        public bool TryRead(out Published item) => _channel.Reader.TryRead(out item!);

        public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken) =>
            _channel.Reader.WaitToReadAsync(cancellationToken);

        /// <summary>Marks the subscriber for a resync; true the first time until the reader takes it.</summary>
        public bool RequestResync() => Interlocked.Exchange(ref _resyncRequested, 1) == 0;

        public bool TakeResyncRequest() => Interlocked.Exchange(ref _resyncRequested, 0) == 1;

        public void DrainAll()
        {
            while (_channel.Reader.TryRead(out _))
            {
            }
        }
    }
}
