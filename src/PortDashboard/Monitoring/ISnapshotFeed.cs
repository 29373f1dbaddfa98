using System.Collections.Immutable;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Monitoring;

/// <summary>
/// The live feed of the socket table: the latest snapshot, the service's health, and subscriptions that yield
/// a resync (a full snapshot) first and then batches of deltas. Each subscriber has its own bounded channel;
/// one that falls behind gets a fresh resync instead of its backlog, and never slows anyone else.
/// </summary>
public interface ISnapshotFeed
{
    /// <summary>The latest good snapshot (<see cref="Snapshot.Empty"/> before the first).</summary>
    Snapshot Current { get; }

    /// <summary>The sequence number of the last delta published (0 before any).</summary>
    long Sequence { get; }

    /// <summary>
    /// The current snapshot and its sequence number read together, as a resync batch. Reading <see cref="Current"/>
    /// and then <see cref="Sequence"/> may straddle a publish; this never does (in <see cref="SnapshotFeed"/>).
    /// </summary>
    FeedBatch CurrentBatch => new(Current, [], IsResync: true, Sequence);

    /// <summary>When the service first saw each open socket; null when the feed does not track it.</summary>
    SocketAges? Ages => null;

    /// <summary>How the snapshot service is doing: last success, last failure, poll interval.</summary>
    SnapshotServiceStatus Status { get; }

    /// <summary>Raised (on the service's thread) when <see cref="Status"/> changes; handlers must not block.</summary>
    event Action<SnapshotServiceStatus>? StatusChanged;

    /// <summary>
    /// Yields a <see cref="FeedBatch"/> with <see cref="FeedBatch.IsResync"/> first (the current snapshot), then
    /// batches of deltas no more often than the feed's minimum batch interval. Ends when cancelled.
    /// </summary>
    IAsyncEnumerable<FeedBatch> SubscribeAsync(CancellationToken cancellationToken);
}

/// <summary>
/// One message of a subscription. A resync carries the snapshot to start over from and no deltas; any other
/// batch carries the deltas since the previous batch, in sequence order, and the latest snapshot they lead to.
/// </summary>
/// <param name="Latest">The snapshot after the last delta in this batch.</param>
/// <param name="Deltas">The deltas, in order (empty for a resync).</param>
/// <param name="IsResync">Whether the subscriber must rebuild its view from <paramref name="Latest"/>.</param>
/// <param name="Sequence">The sequence number of the last delta included (or of the snapshot, for a resync).</param>
public sealed record FeedBatch(Snapshot Latest, ImmutableArray<Delta> Deltas, bool IsResync, long Sequence);

/// <summary>The snapshot service's health, for the banner, /healthz and the header.</summary>
/// <param name="PollInterval">The configured interval.</param>
/// <param name="LastSuccessAt">When the last snapshot was taken successfully, if ever.</param>
/// <param name="LastError">The last read failure's message, while reads are failing; null when healthy.</param>
/// <param name="ConsecutiveFailures">Failures since the last success.</param>
public sealed record SnapshotServiceStatus(
    TimeSpan PollInterval,
    DateTimeOffset? LastSuccessAt,
    string? LastError,
    int ConsecutiveFailures)
{
    public bool IsFailing => LastError is not null;
}
