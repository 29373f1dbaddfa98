using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Sockets;
using PortDashboard.Hosting;
using PortDashboard.Monitoring;
using PortDashboard.Tests.Support;
using static PortDashboard.Tests.Support.TestSockets;

namespace PortDashboard.Tests.Monitoring;

public sealed class SnapshotServiceTests : IAsyncLifetime
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly FakeSocketTableReader _reader = new();
    private readonly ListLogger<SnapshotService> _log = new();
    private readonly SnapshotFeed _feed;
    private readonly SnapshotService _service;

    public SnapshotServiceTests()
    {
        var options = Options.Create(new PortDashboardOptions { PollInterval = Interval });
        _feed = new SnapshotFeed(options, _time, NullLogger<SnapshotFeed>.Instance);
        var snapshotter = new Snapshotter(_reader, new SnapshotterOptions { ProcRoot = "/proc" }, _time);
        _service = new SnapshotService(snapshotter, _feed, options, _time, _log);
    }

    public async ValueTask InitializeAsync()
    {
        await _service.StartAsync(TestContext.Current.CancellationToken);
        await Eventually.WaitUntil(() => _service.Ticks == 1, "the first tick (taken at start, before the timer's first period)");
    }

    public async ValueTask DisposeAsync()
    {
        await _service.StopAsync(CancellationToken.None);
        _service.Dispose();
    }

    private async Task Tick()
    {
        var before = _service.Ticks;
        _time.Advance(Interval);
        await Eventually.WaitUntil(() => _service.Ticks == before + 1, $"tick {before + 1}");
    }

    [Fact]
    public async Task Each_tick_publishes_the_snapshot_with_the_next_numbered_delta()
    {
        var a = Listener(8080, inode: 11);
        var b = Connection(40000, 8080, inode: 12);
        Assert.Equal(1, _feed.Sequence);
        Assert.True(_feed.Current.Sockets.IsEmpty, "the first read found an empty table");

        _reader.Sockets = [a];
        await Tick();
        _reader.Sockets = [a, b];
        await Tick();
        _reader.Sockets = [b.WithState(SocketState.CloseWait)];
        await Tick();

        var deltas = _feed.History.ToList();
        Assert.Equal([1L, 2, 3, 4], deltas.Select(d => d.Sequence));
        Assert.Equal(4, _feed.Sequence);
        Assert.Equal([a.Key], deltas[1].Added.Select(s => s.Key));
        Assert.Equal([b.Key], deltas[2].Added.Select(s => s.Key));
        Assert.Equal([a.Key], deltas[3].Removed.Select(s => s.Key));
        var change = Assert.Single(deltas[3].Changed);
        Assert.Equal((SocketState.Established, SocketState.CloseWait), (change.Before.State, change.After.State));
        Assert.Equal(_time.GetUtcNow(), _feed.Current.TakenAt);
        Assert.Equal(_feed.Current.TakenAt, deltas[3].TakenAt);
        Assert.Equal(new SnapshotServiceStatus(Interval, _time.GetUtcNow(), null, 0), _feed.Status);
        Assert.Contains(_log.Entries, e => e.Level == LogLevel.Information && e.Message.Contains("reader fake", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_reader_failing_every_third_call_leaves_the_last_good_snapshot_published_and_the_service_recovers()
    {
        _reader.FailWhen = call => call % 3 == 0;
        var statuses = new List<SnapshotServiceStatus>();
        _feed.StatusChanged += statuses.Add;
        _reader.Sockets = [Listener(22, inode: 1)];
        await Tick(); // call 2: fine
        var lastGood = _feed.Current;
        var lastGoodAt = _time.GetUtcNow();

        await Tick(); // call 3: throws

        Assert.Same(lastGood, _feed.Current);
        Assert.Equal(2, _feed.Sequence);
        Assert.Equal(new SnapshotServiceStatus(Interval, lastGoodAt, FakeSocketTableReader.FailureMessage, 1), _feed.Status);
        Assert.True(_feed.Status.IsFailing);
        var error = Assert.Single(_log.Entries, e => e.Level == LogLevel.Error);
        Assert.IsType<IOException>(error.Exception);
        Assert.Contains(error.State, p => p.Key == "ConsecutiveFailures" && Equals(p.Value, 1));
        Assert.False(_service.ExecuteTask!.IsCompleted, "a failed read must not end the service");

        _reader.Sockets = [Listener(22, inode: 1), Listener(443, inode: 2)];
        await Tick(); // call 4: fine again (one failure waits one interval)

        Assert.Equal(3, _feed.Sequence);
        Assert.Equal(new SnapshotServiceStatus(Interval, _time.GetUtcNow(), null, 0), _feed.Status);
        Assert.Equal([1L, 2, 3], _feed.History.ToList().Select(d => d.Sequence));
        Assert.Equal(443, Assert.Single(_feed.History.ToList()[^1].Added).Local.Port);
        Assert.Contains(statuses, s => s.IsFailing);
        Assert.False(statuses[^1].IsFailing);
        Assert.Contains(_log.Entries, e => e.Level == LogLevel.Information && e.Message.Contains("works again", StringComparison.Ordinal));

        await Tick(); // call 5
        await Tick(); // call 6: throws
        Assert.Equal(4, _feed.Sequence);
        Assert.Equal(1, _feed.Status.ConsecutiveFailures);
        Assert.Equal(6, _reader.Calls);
    }

    [Fact]
    public async Task Consecutive_failures_back_off_exponentially_and_a_success_resets_the_backoff()
    {
        var failing = true;
        _reader.FailWhen = call => call > 1 && Volatile.Read(ref failing);
        var callsAfterEachTick = new List<int>();
        for (var i = 0; i < 15; i++)
        {
            await Tick();
            callsAfterEachTick.Add(_reader.Calls);
        }

        // t=1 fails (retry after 1 interval), t=2 fails (after 2), t=4 fails (after 4), t=8 fails (after 8): t=16.
        Assert.Equal([2, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5], callsAfterEachTick);
        Assert.Equal(4, _feed.Status.ConsecutiveFailures);
        Assert.Equal(1, _feed.Sequence);

        Volatile.Write(ref failing, false);
        await Tick(); // t=16
        Assert.Equal(6, _reader.Calls);
        Assert.Equal(2, _feed.Sequence);
        Assert.False(_feed.Status.IsFailing);

        await Tick(); // back to one read per interval
        Assert.Equal(7, _reader.Calls);
    }

    [Fact]
    public void Backoff_doubles_per_failure_up_to_the_cap_or_the_poll_interval()
    {
        Assert.Equal(TimeSpan.FromSeconds(1), SnapshotService.Backoff(Interval, 1));
        Assert.Equal(TimeSpan.FromSeconds(8), SnapshotService.Backoff(Interval, 4));
        Assert.Equal(SnapshotService.MaximumBackoff, SnapshotService.Backoff(Interval, 6));
        Assert.Equal(SnapshotService.MaximumBackoff, SnapshotService.Backoff(Interval, 1000));
        Assert.Equal(TimeSpan.FromMilliseconds(400), SnapshotService.Backoff(TimeSpan.FromMilliseconds(100), 3));
        Assert.Equal(TimeSpan.FromSeconds(60), SnapshotService.Backoff(TimeSpan.FromSeconds(60), 5));
    }

    [Fact]
    public async Task Malformed_input_is_logged_with_samples_once_per_so_many_snapshots()
    {
        _reader.MalformedLines = ["  9: 0100007F:zzzz 00000000:0000 0A"];
        for (var i = 0; i < SnapshotService.MalformedLogEvery + 1; i++)
        {
            await Tick();
        }

        Assert.Equal(1, _feed.Current.MalformedLines);
        var warnings = _log.Entries.Where(e => e.Level == LogLevel.Warning).ToList();
        Assert.Equal(2, warnings.Count); // the first snapshot that had some, and the one MalformedLogEvery later
        Assert.Contains("0100007F:zzzz", warnings[0].Message, StringComparison.Ordinal);
    }
}
