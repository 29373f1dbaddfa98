using Microsoft.Extensions.Options;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Reading.Namespaces;
using PortDashboard.Core.Sockets;
using PortDashboard.Hosting;

namespace PortDashboard.Monitoring;

/// <summary>
/// Polls the socket table on a <see cref="PeriodicTimer"/> driven by the injected <see cref="TimeProvider"/>. Each
/// tick takes a snapshot, diffs it against the previous one, numbers the delta (1, 2, 3...) and publishes both to the
/// <see cref="SnapshotFeed"/>. A failing read is logged with its exception, retried with exponential backoff (one
/// poll interval, then 2, 4... up to <see cref="MaximumBackoff"/> or the poll interval if longer) and reported in the
/// feed's status; the last good snapshot stays published, and the service recovers when reads succeed again.
/// </summary>
public sealed class SnapshotService : BackgroundService
{
    /// <summary>The longest wait between two attempts while reads keep failing (unless the poll interval is longer).</summary>
    public static readonly TimeSpan MaximumBackoff = TimeSpan.FromSeconds(30);

    /// <summary>Malformed input is logged at warning level on the first snapshot that has some, then once per this many.</summary>
    public const int MalformedLogEvery = 100;

    private readonly Snapshotter _snapshotter;
    private readonly SnapshotFeed _feed;
    private readonly PortDashboardOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SnapshotService> _logger;
    private Snapshot _previous = Snapshot.Empty;
    private long _sequence;
    private int _consecutiveFailures;
    private DateTimeOffset _nextAttemptAt = DateTimeOffset.MinValue;
    private DateTimeOffset? _lastSuccessAt;
    private long _snapshotsWithMalformedInput;
    private long _ticks;

    public SnapshotService(
        Snapshotter snapshotter,
        SnapshotFeed feed,
        IOptions<PortDashboardOptions> options,
        TimeProvider time,
        ILogger<SnapshotService> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _snapshotter = snapshotter;
        _feed = feed;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    /// <summary>Ticks handled so far, attempts and skipped (backing off) alike; tests wait on it.</summary>
    internal long Ticks => Interlocked.Read(ref _ticks);

    /// <summary>How long to wait after <paramref name="consecutiveFailures"/> failed reads in a row.</summary>
    public static TimeSpan Backoff(TimeSpan pollInterval, int consecutiveFailures)
    {
        var cap = pollInterval > MaximumBackoff ? pollInterval : MaximumBackoff;
        var exponent = Math.Clamp(consecutiveFailures - 1, 0, 30);
        var delay = pollInterval * Math.Pow(2, exponent);
        return delay > cap ? cap : delay;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        LogStartupSummary();
        _feed.MarkStarted(_time.GetUtcNow());
        using var timer = new PeriodicTimer(_options.PollInterval, _time);
        try
        {
            do
            {
                Tick(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    private void Tick(CancellationToken stoppingToken)
    {
        try
        {
            var now = _time.GetUtcNow();
            // Backing off after failures; a wall clock set back by more than a backoff must not hold the retry off
            // until it catches up again (the timer itself is monotonic), so then the retry is due now.
            if (now < _nextAttemptAt && _nextAttemptAt - now <= Backoff(_options.PollInterval, _consecutiveFailures))
            {
                return;
            }

            Snapshot current;
            Delta delta;
            try
            {
                current = _snapshotter.Take(stoppingToken);
                delta = Delta.Between(_previous, current) with { Sequence = _sequence + 1 };
                _feed.Publish(current, delta);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Whatever failed, the host stays up and the last good snapshot stays published.
                OnReadFailed(e, now);
                return;
            }

            _sequence = delta.Sequence;
            _previous = current;
            OnReadSucceeded(current, delta);

            // The full attribution scan, when due, runs now that the snapshot is out: polls publish at incremental speed.
            try
            {
                _snapshotter.RunDueFullAttribution(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException && e is not OutOfMemoryException)
            {
                _logger.LogWarning(e, "The full attribution scan after snapshot {Sequence} failed; the next one starts over", _sequence);
            }
        }
        finally
        {
            Interlocked.Increment(ref _ticks);
        }
    }

    private void OnReadFailed(Exception e, DateTimeOffset now)
    {
        _consecutiveFailures++;
        var backoff = Backoff(_options.PollInterval, _consecutiveFailures);
        _nextAttemptAt = now + backoff;
        _logger.LogError(
            e,
            "Reading the socket table with {Reader} failed ({ConsecutiveFailures} in a row); serving the snapshot of sequence {Sequence} and retrying in {Backoff}",
            _snapshotter.Reader.Name, _consecutiveFailures, _sequence, backoff);
        _feed.UpdateStatus(new SnapshotServiceStatus(_options.PollInterval, _lastSuccessAt, e.Message, _consecutiveFailures));
    }

    private void OnReadSucceeded(Snapshot current, Delta delta)
    {
        if (_consecutiveFailures > 0)
        {
            _logger.LogInformation(
                "Reading the socket table works again after {ConsecutiveFailures} failures; sequence {Sequence}",
                _consecutiveFailures, delta.Sequence);
        }

        _consecutiveFailures = 0;
        _nextAttemptAt = DateTimeOffset.MinValue;
        _lastSuccessAt = current.TakenAt;
        _feed.UpdateStatus(new SnapshotServiceStatus(_options.PollInterval, _lastSuccessAt, null, 0));

        if (current.MalformedLines > 0 && _snapshotsWithMalformedInput++ % MalformedLogEvery == 0)
        {
            var malformed = _snapshotter.LastMalformed;
            _logger.LogWarning(
                "Skipped {MalformedLines} malformed lines of the socket table (logged once per {Every} snapshots that have some; {Snapshots} so far); samples: {Samples}",
                current.MalformedLines, MalformedLogEvery, _snapshotsWithMalformedInput, malformed.Samples);
        }

        LogNamespaceProblems();

        if (_logger.IsEnabled(LogLevel.Debug))
        {
            _logger.LogDebug(
                "Snapshot {Sequence}: {Sockets} sockets in {Duration}; +{Added} -{Removed} ~{Changed}",
                delta.Sequence, current.Count, current.Duration, delta.Added.Length, delta.Removed.Length, delta.Changed.Length);
        }
    }

    /// <summary>The namespaces skipped at the last read, as last logged: each problem is logged when it appears, not at every poll.</summary>
    private string _namespaceProblems = "";

    private void LogNamespaceProblems()
    {
        if (_snapshotter.Reader is not NamespacedReader namespaced)
        {
            return;
        }

        var problems = string.Join("; ", namespaced.LastNamespaces.Where(n => n.Error is not null).Select(n => $"{n.Namespace.Name}: {n.Error}"));
        if (problems != _namespaceProblems)
        {
            _namespaceProblems = problems;
            if (problems.Length > 0)
            {
                _logger.LogWarning("Network namespaces skipped at this read (retried at every poll): {Problems}", problems);
            }
            else
            {
                _logger.LogInformation("Every network namespace is read again ({Namespaces} besides the host's)", namespaced.LastNamespaces.Count);
            }
        }
    }

    private void LogStartupSummary()
    {
        var reader = _snapshotter.Reader;
        var policy = Core.Ports.OsPortPolicyReader.Read(_options.ProcRoot);
        _logger.LogInformation(
            "Snapshot service starting: proc root {ProcRoot}, poll interval {PollInterval}, reader {Reader} (attribution {Attribution}), show command lines {ShowCommandLine}, minimum batch interval {MinimumBatchInterval}, delta history {DeltaHistory} deltas or {DeltaHistoryChanges} changes, full attribution every {FullAttributionInterval}, subscriber backlog {SubscriberBacklog}; OS port policy: {PortPolicy} (from {PortPolicySource})",
            _options.ProcRoot,
            _options.PollInterval,
            reader.Name,
            !_options.AttributeOwners ? "off" : reader.SupportsAttribution ? "on" : "unsupported by this reader",
            _options.ShowCommandLine,
            _options.MinimumBatchInterval,
            _options.DeltaHistory,
            _options.DeltaHistoryChanges,
            _options.FullAttributionInterval,
            _options.SubscriberBacklog,
            policy.ToString(),
            policy.Source);
    }
}
