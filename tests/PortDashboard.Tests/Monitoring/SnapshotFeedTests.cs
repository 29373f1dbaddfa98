using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using PortDashboard.Core.Sockets;
using PortDashboard.Hosting;
using PortDashboard.Monitoring;
using PortDashboard.Tests.Support;
using static PortDashboard.Tests.Support.TestSockets;

namespace PortDashboard.Tests.Monitoring;

public sealed class SnapshotFeedTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly ListLogger<SnapshotFeed> _log = new();
    private Snapshot _previous = Snapshot.Empty;
    private long _sequence;

    private SnapshotFeed CreateFeed(TimeSpan minimumBatchInterval, int backlog = 64, int history = 600) =>
        new(Options.Create(new PortDashboardOptions
        {
            MinimumBatchInterval = minimumBatchInterval,
            SubscriberBacklog = backlog,
            DeltaHistory = history,
        }), _time, _log);

    /// <summary>Publishes a snapshot holding one listener per port, as the service would.</summary>
    private Snapshot Publish(SnapshotFeed feed, params int[] ports)
    {
        var current = SnapshotOf(Start.AddSeconds(_sequence + 1), [.. ports.Select(p => Listener(p, inode: p))]);
        feed.Publish(current, NumberedDelta(++_sequence, _previous, current));
        _previous = current;
        return current;
    }

    [Fact]
    public async Task A_subscription_starts_with_a_resync_holding_the_current_snapshot_and_its_sequence()
    {
        var feed = CreateFeed(TimeSpan.Zero);
        Publish(feed, 80);
        var current = Publish(feed, 80, 443);

        await using var subscription = feed.SubscribeAsync(TestContext.Current.CancellationToken).GetAsyncEnumerator(TestContext.Current.CancellationToken);
        Assert.True(await subscription.MoveNextAsync());

        var first = subscription.Current;
        Assert.True(first.IsResync);
        Assert.Same(current, first.Latest);
        Assert.Equal(2, first.Sequence);
        Assert.Empty(first.Deltas);
        Assert.Equal(1, feed.SubscriberCount);
        Assert.Equal(first, feed.CurrentBatch);
    }

    [Fact]
    public async Task Deltas_published_within_the_minimum_interval_arrive_together_in_one_batch()
    {
        var interval = TimeSpan.FromMilliseconds(100);
        var feed = CreateFeed(interval);
        var cancellation = TestContext.Current.CancellationToken;
        await using var subscription = feed.SubscribeAsync(cancellation).GetAsyncEnumerator(cancellation);
        Assert.True(await subscription.MoveNextAsync()); // resync at 0

        var waiting = subscription.MoveNextAsync().AsTask();
        Publish(feed, 80);
        Assert.True(await Eventually.Within(waiting, "the first delta"));
        Assert.Equal([1L], subscription.Current.Deltas.Select(d => d.Sequence));

        // The subscriber now waits out the minimum interval: what is published meanwhile is batched.
        waiting = subscription.MoveNextAsync().AsTask();
        Publish(feed, 80, 443);
        Publish(feed, 443);
        var last = Publish(feed, 443, 8443);
        Assert.False(waiting.IsCompleted, "no batch before the minimum interval has passed");

        _time.Advance(interval);
        Assert.True(await Eventually.Within(waiting, "the batch after the minimum interval"));
        var batch = subscription.Current;
        Assert.False(batch.IsResync);
        Assert.Equal([2L, 3, 4], batch.Deltas.Select(d => d.Sequence));
        Assert.Equal(4, batch.Sequence);
        Assert.Same(last, batch.Latest);
    }

    [Fact]
    public async Task A_subscriber_that_never_reads_is_resynced_while_another_receives_every_delta()
    {
        const int backlog = 4;
        const int published = 3 * backlog;
        var feed = CreateFeed(TimeSpan.Zero, backlog);
        var cancellation = TestContext.Current.CancellationToken;

        await using var stalled = feed.SubscribeAsync(cancellation).GetAsyncEnumerator(cancellation);
        Assert.True(await stalled.MoveNextAsync()); // its resync; it then reads nothing for a long time

        var received = new List<FeedBatch>();
        var lastSequence = 0L;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var reader = Task.Run(async () =>
        {
            await foreach (var batch in feed.SubscribeAsync(stop.Token))
            {
                lock (received)
                {
                    received.Add(batch);
                }

                Volatile.Write(ref lastSequence, batch.Sequence);
            }
        }, cancellation);
        await Eventually.WaitUntil(() => feed.SubscriberCount == 2, "the reading subscriber is registered");

        Snapshot latest = Snapshot.Empty;
        for (var i = 1; i <= published; i++)
        {
            latest = Publish(feed, [.. Enumerable.Range(1000, i)]);
            var expected = i;
            await Eventually.WaitUntil(() => Volatile.Read(ref lastSequence) == expected, $"the reading subscriber got delta {expected}");
        }

        await stop.CancelAsync();
        await reader;

        List<FeedBatch> batches;
        lock (received)
        {
            batches = [.. received];
        }

        Assert.True(batches[0].IsResync);
        Assert.All(batches.Skip(1), b => Assert.False(b.IsResync, "the reading subscriber never fell behind"));
        Assert.Equal(Enumerable.Range(1, published).Select(i => (long)i), batches.Skip(1).SelectMany(b => b.Deltas).Select(d => d.Sequence));

        // The stalled one: its backlog filled after `backlog` deltas; what it gets next is a fresh resync.
        Assert.True(await stalled.MoveNextAsync());
        Assert.True(stalled.Current.IsResync);
        Assert.Same(latest, stalled.Current.Latest);
        Assert.Equal(published, stalled.Current.Sequence);
        Assert.Equal(1, feed.ResyncCount);
        Assert.Single(_log.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("resyncing", StringComparison.Ordinal));

        // ...and from then on, deltas again.
        var next = stalled.MoveNextAsync().AsTask();
        Publish(feed, 1);
        Assert.True(await Eventually.Within(next, "the resynced subscriber's next delta"));
        Assert.Equal([published + 1L], stalled.Current.Deltas.Select(d => d.Sequence));
    }

    [Fact]
    public async Task Ending_a_subscription_removes_it_from_the_feed()
    {
        var feed = CreateFeed(TimeSpan.Zero);
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var subscription = feed.SubscribeAsync(cancellation.Token).GetAsyncEnumerator(cancellation.Token);
        Assert.True(await subscription.MoveNextAsync());
        var waiting = subscription.MoveNextAsync().AsTask();
        Assert.Equal(1, feed.SubscriberCount);

        await cancellation.CancelAsync();

        Assert.False(await Eventually.Within(waiting, "the subscription to end"), "a cancelled subscription ends quietly");
        await subscription.DisposeAsync();
        Assert.Equal(0, feed.SubscriberCount);
        Publish(feed, 80); // nobody to write to
    }

    [Fact]
    public void Publish_rejects_a_delta_that_does_not_follow_the_last_sequence()
    {
        var feed = CreateFeed(TimeSpan.Zero);
        var current = SnapshotOf(Start, Listener(80, 1));
        var error = Assert.Throws<ArgumentException>(() => feed.Publish(current, NumberedDelta(2, Snapshot.Empty, current)));
        Assert.Contains("does not follow 0", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, feed.Sequence);
        Assert.Same(Snapshot.Empty, feed.Current);
    }

    [Fact]
    public void The_history_keeps_the_latest_deltas_only()
    {
        var feed = CreateFeed(TimeSpan.Zero, history: 3);
        for (var i = 0; i < 5; i++)
        {
            Publish(feed, 80 + i);
        }

        Assert.Equal([3L, 4, 5], feed.History.ToList().Select(d => d.Sequence));
        Assert.Equal([4L, 5], feed.History.Since(3)!.Select(d => d.Sequence));
        Assert.Equal([3L, 4, 5], feed.History.Since(2)!.Select(d => d.Sequence));
        Assert.Empty(feed.History.Since(5)!);
        Assert.Null(feed.History.Since(1)); // delta 2 is gone: start over from a snapshot
        Assert.Null(feed.History.Since(6)); // not published yet
    }

    [Fact]
    public void The_history_drops_its_oldest_deltas_once_they_hold_more_changes_than_allowed()
    {
        var history = new DeltaHistory(capacity: 600, maxChanges: 10);
        var previous = Snapshot.Empty;
        var sizes = new[] { 6, 3, 1, 4, 12, 2 };
        for (var i = 0; i < sizes.Length; i++)
        {
            // Each snapshot holds `sizes[i]` new listeners and none of the last's: a delta of sizes[i-1] + sizes[i] changes.
            var current = SnapshotOf(Start.AddSeconds(i + 1), [.. Enumerable.Range(0, sizes[i]).Select(p => Listener(1000 + (i * 100) + p, inode: (i * 100) + p + 1))]);
            history.Add(NumberedDelta(i + 1, previous, current));
            previous = current;
            Assert.InRange(history.Changes, 0, Math.Max(10, history.ToList()[^1].Count));
            Assert.Equal(history.ToList().Sum(d => (long)d.Count), history.Changes);
        }

        // Deltas of 6, 9, 4, 5, 16 and 14 changes: 14 alone is over the bound but the newest is always kept.
        Assert.Equal([6L], history.ToList().Select(d => d.Sequence));
        Assert.Equal(14, history.Changes);
        Assert.Null(history.Since(4)); // delta 5 was dropped: start over from a snapshot
        Assert.Empty(history.Since(6)!);
    }

    [Fact]
    public void The_history_keeps_every_delta_the_change_bound_allows()
    {
        var feed = CreateFeed(TimeSpan.Zero, history: 600);
        for (var i = 0; i < 5; i++)
        {
            Publish(feed, 80 + i);
        }

        // Deltas of 1 then 2 changes (one listener replaced by another): far under the default bound.
        Assert.Equal([1L, 2, 3, 4, 5], feed.History.ToList().Select(d => d.Sequence));
        Assert.Equal(9, feed.History.Changes);
        Assert.Equal(50_000, feed.History.MaxChanges);
    }

    [Fact]
    public void Status_changes_reach_the_handlers_and_a_failing_handler_does_not_stop_the_others()
    {
        var feed = CreateFeed(TimeSpan.Zero);
        var seen = new List<SnapshotServiceStatus>();
        feed.StatusChanged += _ => throw new InvalidOperationException("handler bug");
        feed.StatusChanged += seen.Add;
        var failing = new SnapshotServiceStatus(TimeSpan.FromSeconds(1), Start, "boom", 1);

        feed.UpdateStatus(failing);
        feed.UpdateStatus(failing); // unchanged: not raised again

        Assert.Equal([failing], seen);
        Assert.Same(failing, feed.Status);
        Assert.Contains(_log.Entries, e => e.Level == LogLevel.Error && e.Exception is InvalidOperationException);
    }
}
