using System.Runtime.CompilerServices;
using System.Threading.Channels;
using PortDashboard.Core.Sockets;
using PortDashboard.Monitoring;

namespace PortDashboard.Tests.Components.Support;

/// <summary>
/// An <see cref="ISnapshotFeed"/> a test drives: it sets the current snapshot, then publishes the next ones; each
/// publish diffs against the current snapshot and queues a numbered delta batch on a channel the page reads.
/// </summary>
public sealed class FakeSnapshotFeed : ISnapshotFeed
{
    private readonly Channel<FeedBatch> _batches = Channel.CreateUnbounded<FeedBatch>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _gate = new();
    private readonly List<(int Count, TaskCompletionSource Done)> _consumedWaiters = [];
    private int _subscribers;
    private int _subscriptions;
    private int _consumed;

    public Snapshot Current { get; private set; } = Snapshot.Empty;

    public long Sequence { get; private set; }

    public SnapshotServiceStatus Status { get; private set; } = new(TimeSpan.FromSeconds(1), null, null, 0);

    public event Action<SnapshotServiceStatus>? StatusChanged;

    /// <summary>The service's first-seen times, when a test gives some (null: the page counts ages itself).</summary>
    public SocketAges? Ages { get; set; }

    /// <summary>Subscriptions open now.</summary>
    public int Subscribers => Volatile.Read(ref _subscribers);

    /// <summary>Subscriptions ever opened.</summary>
    public int Subscriptions => Volatile.Read(ref _subscriptions);

    public async IAsyncEnumerable<FeedBatch> SubscribeAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _subscribers);
        Interlocked.Increment(ref _subscriptions);
        try
        {
            yield return new FeedBatch(Current, [], IsResync: true, Sequence);
            OnConsumed();
            await foreach (var batch in _batches.Reader.ReadAllAsync(cancellationToken))
            {
                yield return batch;
                OnConsumed();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _subscribers);
        }
    }

    /// <summary>
    /// Completes once the subscriber has handled <paramref name="count"/> batches (the initial resync included): it has
    /// come back for the next one, so it is done with them. Fails after <paramref name="timeout"/>.
    /// </summary>
    public Task WaitForConsumedAsync(int count, TimeSpan timeout)
    {
        lock (_gate)
        {
            if (_consumed >= count)
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _consumedWaiters.Add((count, done));
            return done.Task.WaitAsync(timeout);
        }
    }

    private void OnConsumed()
    {
        lock (_gate)
        {
            _consumed++;
            foreach (var waiter in _consumedWaiters.Where(w => w.Count <= _consumed).ToList())
            {
                waiter.Done.TrySetResult();
                _consumedWaiters.Remove(waiter);
            }
        }
    }

    /// <summary>Sets the snapshot a new subscription starts from (before the page renders).</summary>
    public void SetCurrent(Snapshot snapshot) => Current = snapshot;

    /// <summary>Publishes <paramref name="next"/> as one delta batch (the delta from the current snapshot); returns the delta.</summary>
    public Delta Publish(Snapshot next)
    {
        var delta = Delta.Between(Current, next) with { Sequence = Sequence + 1 };
        Current = next;
        Sequence = delta.Sequence;
        _batches.Writer.TryWrite(new FeedBatch(next, [delta], IsResync: false, delta.Sequence));
        return delta;
    }

    /// <summary>Publishes a batch as given (for resyncs and unusual batches).</summary>
    public void PublishBatch(FeedBatch batch)
    {
        Current = batch.Latest;
        Sequence = batch.Sequence;
        _batches.Writer.TryWrite(batch);
    }

    public void SetStatus(SnapshotServiceStatus status)
    {
        Status = status;
        StatusChanged?.Invoke(status);
    }
}
