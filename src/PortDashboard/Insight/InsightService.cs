using System.Collections.Immutable;
using Microsoft.Extensions.Options;
using PortDashboard.Core.Pressure;
using PortDashboard.Core.Reading.Netlink;
using PortDashboard.Core.Sockets;
using PortDashboard.Insight.History;
using PortDashboard.Insight.Listeners;
using PortDashboard.Insight.Pressure;
using PortDashboard.Insight.ShortLived;
using PortDashboard.Monitoring;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Insight;

/// <summary>
/// The insight loop: one more in-process subscriber of the snapshot feed (so the snapshot service never waits for
/// it). For each batch it takes the sockets the kernel reported destroyed before that poll and sorts out the
/// short-lived ones, counts openings for the ephemeral pressure, records births and deaths for the history writer,
/// follows the listeners, and publishes the views to <see cref="InsightState"/>. A batch that fails is logged and
/// the next one is taken; if it falls behind, the feed resyncs it and it compares snapshots instead.
/// </summary>
public sealed class InsightService : BackgroundService
{
    private readonly ISnapshotFeed _feed;
    private readonly DestroyCapture _capture;
    private readonly HistoryWriter _writer;
    private readonly ListenerWatch _listeners;
    private readonly InsightState _state;
    private readonly InsightMetrics _metrics;
    private readonly InsightOptions _options;
    private readonly string _contentRoot;
    private readonly ILogger<InsightService> _logger;
    private readonly PressureMonitor _pressure;
    private readonly ClosedSocketClassifier _classifier = new();
    private readonly List<DestroyedSocket> _destroyed = [];
    private readonly LinkedList<ClosedSocket> _recentClosed = new();
    private readonly Dictionary<Destination, long> _shortLivedByDestination = [];
    private HistoryRecorder? _recorder;
    private Snapshot? _last;
    private readonly LiveConnections _live = new();
    private Socket?[] _seenBefore = [];
    private long _shortLivedTotal;
    private long _batches;
    private int _failuresLogged;

    public InsightService(
        ISnapshotFeed feed,
        DestroyCapture capture,
        HistoryWriter writer,
        ListenerWatch listeners,
        InsightState state,
        InsightMetrics metrics,
        IOptions<InsightOptions> options,
        IHostEnvironment environment,
        ILogger<InsightService> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(environment);
        _feed = feed;
        _capture = capture;
        _writer = writer;
        _listeners = listeners;
        _state = state;
        _metrics = metrics;
        _options = options.Value;
        _contentRoot = environment.ContentRootPath;
        _logger = logger;
        _pressure = new PressureMonitor(_options.Pressure, metrics, logger);
    }

    /// <summary>Batches applied since start (tests wait on it).</summary>
    internal long Batches => Interlocked.Read(ref _batches);

    /// <summary>Where the history file is: the configured path, under the content root when relative.</summary>
    internal static string ResolvePath(string path, string contentRoot) =>
        Path.IsPathRooted(path) ? path : Path.Combine(contentRoot, path);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield(); // opening the database must not hold up the host's start
        var resume = OpenHistory();
        _listeners.Restore(resume?.ListenerEvents ?? [], resume?.Baseline);

        // Sockets open across a restart keep the first-seen time the previous run gave them, not this run's start.
        _feed.Ages?.Restore(resume?.OpenRows.Select(row => KeyValuePair.Create(row.Key, row.BornAt)) ?? []);
        _recorder = resume is null ? null : new HistoryRecorder(_writer, resume, _feed.Ages);

        try
        {
            await foreach (var batch in _feed.SubscribeAsync(stoppingToken).WithCancellation(stoppingToken))
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                try
                {
                    await ApplyAsync(batch, stoppingToken);
                    _metrics.InsightBatch(System.Diagnostics.Stopwatch.GetElapsedTime(started));
                }
                catch (Exception e) when (e is not OperationCanceledException && e is not OutOfMemoryException)
                {
                    // One bad batch must not end insight; log the first few in full, then count.
                    if (_failuresLogged++ < 10)
                    {
                        _logger.LogError(e, "Insight could not apply the batch up to sequence {Sequence}; carrying on with the next", batch.Sequence);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    private HistoryResume? OpenHistory()
    {
        var options = _options.History;
        if (!options.Enabled)
        {
            _state.SetHistory(new HistoryStatus(false, null, null), null);
            _writer.Attach(null);
            _logger.LogInformation("History is off (PortDashboard:History:Enabled is false)");
            return null;
        }

        var path = ResolvePath(options.Path, _contentRoot);
        try
        {
            var store = new HistoryStore(path);
            var resume = store.Initialize();
            _state.SetHistory(new HistoryStatus(true, store.Path, null), store);
            _writer.Attach(store);
            _logger.LogInformation(
                "History in {Path}: {Open} sockets open at the last run's end, kept {MaxAge} or {MaxRows} rows",
                store.Path, resume.OpenRows.Length, options.MaxAge, options.MaxRows);
            return resume;
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            _state.SetHistory(new HistoryStatus(true, path, e.Message), null);
            _writer.Attach(null);
            _logger.LogError(e, "History is off: {Path} could not be opened ({Reason}); the live views work without it", path, e.Message);
            return null;
        }
    }

    internal async Task ApplyAsync(FeedBatch batch, CancellationToken cancellationToken)
    {
        var snapshot = batch.Latest;
        if (snapshot.TakenAt == Snapshot.Empty.TakenAt)
        {
            return; // before the first poll
        }

        var first = _last is null;
        var resync = batch.IsResync && !first;
        IReadOnlyList<Delta> deltas = first ? [] : resync ? [Delta.Between(_last!, snapshot)] : batch.Deltas;

        // Sockets reported destroyed before this poll: did the previous or this snapshot show them open? The live
        // connections are the previous poll's until the deltas are applied, this poll's after.
        _destroyed.Clear();
        _capture.TakeBefore(snapshot.TakenAt, _destroyed);
        if (_seenBefore.Length < _destroyed.Count)
        {
            _seenBefore = new Socket?[Math.Max(_destroyed.Count, 2 * _seenBefore.Length)];
        }

        for (var i = 0; i < _destroyed.Count; i++)
        {
            _seenBefore[i] = _live.Full(_destroyed[i].Socket);
        }

        if (first || resync)
        {
            _live.Reset(snapshot);
        }
        else
        {
            foreach (var delta in deltas)
            {
                _live.Apply(delta);
            }
        }

        var closed = new List<ClosedSocket>(_destroyed.Count);
        for (var i = 0; i < _destroyed.Count; i++)
        {
            var destroyed = _destroyed[i];
            closed.Add(_classifier.Classify(destroyed, _seenBefore[i] ?? _live.Full(destroyed.Socket), _live, snapshot.PortPolicy));
            _seenBefore[i] = null;
        }

        if (first)
        {
            _classifier.Learn(snapshot.Sockets, snapshot.PortPolicy);
        }

        foreach (var delta in deltas)
        {
            _classifier.Learn(delta.Added, snapshot.PortPolicy);
            _classifier.Learn(delta.Changed.Select(c => c.After), snapshot.PortPolicy);
            _classifier.LearnOrphans(delta, _live);
        }

        var shortLived = closed.Where(c => c.ShortLived).ToList();
        var openings = first ? [] : WithoutTimeWaitContinuations(deltas, closed);
        var pressure = _pressure.Apply(snapshot, openings, shortLived);

        if (_recorder is not null)
        {
            await _recorder.ApplyAsync(snapshot, deltas, resync, shortLived, cancellationToken);
        }

        var listenerEvents = _listeners.Apply(snapshot, deltas, rebuild: first || resync);
        foreach (var e in listenerEvents)
        {
            _metrics.ListenerChanged(e.Change);
            _logger.LogInformation(
                "Listener {Change}: {Listener} {Owners}{Flags}",
                e.Change == ListenerChange.New ? "new" : "gone", e.Listener.ToString(), e.Owners,
                (e.Flags.InEphemeralRange ? " (inside the OS ephemeral range)" : "") + (e.Flags.Exposed ? " (all interfaces)" : ""));
            if (_recorder is not null)
            {
                await _writer.EnqueueAsync(new ListenerEventOp(e), cancellationToken);
            }
        }

        RememberClosed(closed, shortLived, snapshot.PortPolicy);
        _state.Publish(pressure, ShortLivedView());
        _state.RaiseListenerEvents(listenerEvents);

        _last = snapshot;
        Interlocked.Increment(ref _batches);
    }

    /// <summary>
    /// The deltas with their TIME_WAIT additions left out when they continue a connection already counted: one a
    /// snapshot showed open (its full socket is among the removed: the TIME_WAIT one has another key), one opened
    /// earlier in this batch, or one just seen closing. A TIME_WAIT socket with no such trace is the only sign of a
    /// connection that opened and closed between polls (when closings are not captured), and counts as an opening.
    /// </summary>
    private static IReadOnlyList<Delta> WithoutTimeWaitContinuations(IReadOnlyList<Delta> deltas, List<ClosedSocket> closed)
    {
        if (!deltas.Any(d => d.Added.Any(s => s.State == SocketState.TimeWait)))
        {
            return deltas;
        }

        var known = new HashSet<FourTuple>(closed.Select(c => FourTuple.Of(c.Socket)));
        var filtered = new List<Delta>(deltas.Count);
        foreach (var delta in deltas)
        {
            foreach (var removed in delta.Removed)
            {
                known.Add(FourTuple.Of(removed));
            }

            var added = ImmutableArray.CreateBuilder<Socket>(delta.Added.Length);
            foreach (var socket in delta.Added)
            {
                var tuple = FourTuple.Of(socket);
                if (socket.State != SocketState.TimeWait)
                {
                    known.Add(tuple);
                    added.Add(socket);
                }
                else if (!known.Contains(tuple))
                {
                    added.Add(socket);
                }
            }

            filtered.Add(delta with { Added = added.DrainToImmutable() });
        }

        return filtered;
    }

    private void RememberClosed(List<ClosedSocket> closed, List<ClosedSocket> shortLived, Core.Ports.OsPortPolicy policy)
    {
        var limit = _options.Pressure.RecentClosedSockets;
        for (var i = Math.Max(0, closed.Count - limit); i < closed.Count; i++)
        {
            _recentClosed.AddFirst(closed[i]); // only the newest can stay in the list
        }

        while (_recentClosed.Count > limit)
        {
            _recentClosed.RemoveLast();
        }

        _shortLivedTotal += shortLived.Count;
        _metrics.ShortLivedSeen(shortLived.Count);
        foreach (var socket in shortLived)
        {
            if (OpeningRateTracker.DestinationOf(socket.Socket, policy) is { } destination)
            {
                _shortLivedByDestination[destination] = _shortLivedByDestination.GetValueOrDefault(destination) + 1;
            }
        }

        if (_shortLivedByDestination.Count > 10_000)
        {
            // Bounded: keep the busiest.
            foreach (var quiet in _shortLivedByDestination.OrderBy(p => p.Value).Take(5_000).Select(p => p.Key).ToList())
            {
                _shortLivedByDestination.Remove(quiet);
            }
        }
    }

    private ShortLivedView ShortLivedView() => new(
        _capture.Status,
        _capture.Seen,
        _shortLivedTotal,
        _capture.Lost,
        [.. _recentClosed],
        [.. _shortLivedByDestination.OrderByDescending(p => p.Value).Take(10)]);
}
