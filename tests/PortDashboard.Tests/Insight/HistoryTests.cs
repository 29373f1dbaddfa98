using Microsoft.Extensions.Options;
using PortDashboard.Core.Filtering;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;
using PortDashboard.Insight;
using PortDashboard.Insight.History;
using PortDashboard.Insight.ShortLived;
using PortDashboard.Tests.Insight.Support;
using PortDashboard.Tests.Support;
using static PortDashboard.Tests.Components.Support.TestSockets;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Tests.Insight;

/// <summary>The recorder, the background writer and the queries on a real SQLite file.</summary>
public sealed class HistoryTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly ProcessInfo Api = Process("api", 4100);
    private static readonly ProcessInfo Worker = Process("worker", 4200);

    private readonly string _path = Path.Combine(Path.GetTempPath(), $"portdashboard-history-test-{Guid.NewGuid():N}.db");
    private readonly InsightTestHost _host = new();
    private readonly List<HistoryWriter> _writers = [];
    private readonly ListLogger<HistoryWriter> _writerLog = new();
    private HistoryStore _store = null!;
    private HistoryWriter _writer = null!;
    private HistoryRecorder _recorder = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await StartAsync(new HistoryOptions());

    public async ValueTask DisposeAsync()
    {
        Assert.DoesNotContain(_writerLog.Entries, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning);
        foreach (var writer in _writers)
        {
            await writer.StopAsync(CancellationToken.None);
            writer.Dispose();
        }

        _host.Dispose();
        foreach (var file in new[] { _path, _path + "-wal", _path + "-shm" })
        {
            File.Delete(file);
        }
    }

    /// <summary>Opens the file (as a run of the app does) and starts a writer and a recorder on it.</summary>
    private async Task<HistoryResume> StartAsync(HistoryOptions options, SocketAges? ages = null)
    {
        _store = new HistoryStore(_path);
        var resume = _store.Initialize();
        _writer = new HistoryWriter(Options.Create(new InsightOptions { History = options }), _host.Metrics, _host.Time, _writerLog);
        _writers.Add(_writer);
        _writer.Attach(_store);
        await _writer.StartAsync(Ct);
        _recorder = new HistoryRecorder(_writer, resume, ages);
        return resume;
    }

    private async Task StopAsync()
    {
        await _writer.StopAsync(Ct);
        _writers.Remove(_writer);
        _writer.Dispose();
    }

    private Snapshot _previous = PortDashboard.Core.Sockets.Snapshot.Empty;

    /// <summary>Records the snapshot of <paramref name="sockets"/> at <paramref name="at"/> as the feed would deliver it.</summary>
    private async Task Poll(DateTimeOffset at, IReadOnlyList<ClosedSocket>? shortLived, params Socket[] sockets)
    {
        var next = Snapshot(at, sockets);
        var delta = Delta.Between(_previous, next);
        await _recorder.ApplyAsync(next, [delta], resync: false, shortLived ?? [], Ct);
        _previous = next;
    }

    private async Task<IReadOnlyList<string>> AliveAt(DateTimeOffset at, string filter = "", OsPortPolicy? policy = null) =>
        [.. (await _store.AliveAtAsync(at, Filter.Parse(filter), null, policy, 100, Ct)).Rows.Select(r => $"{r.Socket.Local}>{r.Socket.Remote}").Order()];

    [Fact]
    public async Task The_OS_classes_of_stored_sockets_are_judged_by_this_machines_policy()
    {
        var inNarrow = Tcp("10.0.0.1:41000", "10.0.0.5:5432", SocketState.Established, Api); // in 40000–45000 and in Linux's 32768–60999
        var inLinuxOnly = Tcp("10.0.0.1:50000", "10.0.0.5:5432", SocketState.Established, Api);
        var onPort80 = Listener("0.0.0.0:80", Api);
        await Poll(T0, null, inNarrow, inLinuxOnly, onPort80);
        await _writer.FlushAsync(Ct);

        var narrow = new OsPortPolicy(40000, 45000, 80);
        Assert.Equal(["10.0.0.1:41000>10.0.0.5:5432"], await AliveAt(T0, "range=os-ephemeral&side=local", narrow));
        Assert.Equal(["10.0.0.1:41000>10.0.0.5:5432", "10.0.0.1:50000>10.0.0.5:5432"], await AliveAt(T0, "range=os-ephemeral&side=local"));
        Assert.Empty(await AliveAt(T0, "range=privileged&side=local", narrow)); // 80 is unprivileged there
        Assert.Equal(["*:80>*:*"], await AliveAt(T0, "range=privileged&side=local"));
    }

    [Fact]
    public async Task The_table_at_a_moment_holds_the_sockets_born_by_then_and_not_yet_dead()
    {
        var listener = Listener("0.0.0.0:8080", Api);
        var a = Tcp("10.0.0.1:40001", "10.0.0.5:5432", SocketState.Established, Api);
        var b = Tcp("10.0.0.1:40002", "10.0.0.5:5432", SocketState.Established, Worker);
        await Poll(T0, null, listener, a);
        await Poll(T0.AddSeconds(1), null, listener, a, b);
        await Poll(T0.AddSeconds(2), null, listener, b);
        await Poll(T0.AddSeconds(62), null, listener);
        await _writer.FlushAsync(Ct);

        Assert.Equal(["*:8080>*:*", "10.0.0.1:40001>10.0.0.5:5432"], await AliveAt(T0.AddMilliseconds(500)));
        Assert.Equal(["*:8080>*:*", "10.0.0.1:40001>10.0.0.5:5432", "10.0.0.1:40002>10.0.0.5:5432"], await AliveAt(T0.AddSeconds(1.5)));
        Assert.Equal(["*:8080>*:*", "10.0.0.1:40002>10.0.0.5:5432"], await AliveAt(T0.AddSeconds(2))); // died at 2 s: gone at 2 s
        Assert.Equal(["*:8080>*:*"], await AliveAt(T0.AddSeconds(62)));
        Assert.Equal(["10.0.0.1:40002>10.0.0.5:5432"], await AliveAt(T0.AddSeconds(30), "process=worker"));
        Assert.Empty(await AliveAt(T0.AddSeconds(-1)));

        var rows = (await _store.AliveAtAsync(T0.AddSeconds(1.5), Filter.Empty, null, null, 100, Ct)).Rows;
        Assert.Equal(HistoryKind.OpenAtStart, rows.Single(r => r.Socket.Local.Port == 40001).Kind);
        var bRow = rows.Single(r => r.Socket.Local.Port == 40002);
        Assert.Equal((HistoryKind.Opened, T0.AddSeconds(1), T0.AddSeconds(62)), (bRow.Kind, bRow.BornAt, bRow.DiedAt!.Value));
        Assert.Equal(TimeSpan.FromSeconds(61), bRow.Lifetime);
        Assert.Equal("worker", Assert.Single(bRow.Socket.Owners).Name);
    }

    [Fact]
    public async Task A_udp_socket_that_connects_keeps_its_inode_under_a_new_key_a_new_life_and_the_old_one_dies()
    {
        var unconnected = Udp("10.0.0.1:5353", "*:*", Api);
        var connected = new Socket(unconnected.Protocol, unconnected.Family, unconnected.Local, Endpoint("10.0.0.9:53"), SocketState.Established, unconnected.Inode, unconnected.Uid, owners: [Api]);
        await Poll(T0, null, unconnected);
        await Poll(T0.AddSeconds(1), null, connected); // the delta adds the new key before it removes the old one
        await Poll(T0.AddSeconds(2), null, connected.With(SocketState.Established, Worker));
        await Poll(T0.AddSeconds(3), null);
        await _writer.FlushAsync(Ct);

        Assert.Equal(["10.0.0.1:5353>*:*"], await AliveAt(T0.AddSeconds(0.5)));
        Assert.Equal(["10.0.0.1:5353>10.0.0.9:53"], await AliveAt(T0.AddSeconds(1.5)));
        Assert.Equal(["10.0.0.1:5353>10.0.0.9:53"], await AliveAt(T0.AddSeconds(2.5)));
        Assert.Empty(await AliveAt(T0.AddSeconds(3)));
        Assert.Equal(0, _recorder.AliveCount);
    }

    [Fact]
    public async Task Lifetimes_are_bucketed_per_process_and_counts_kept_per_minute()
    {
        var listener = Listener("0.0.0.0:8080", Api);
        await Poll(T0, null, listener);
        var quick = Tcp("10.0.0.1:40001", "10.0.0.5:5432", SocketState.Established, Api);
        var slow = Tcp("10.0.0.1:40002", "10.0.0.5:5432", SocketState.Established, Api);
        var waiting = Tcp("10.0.0.1:40001", "10.0.0.5:5432", SocketState.TimeWait); // TIME_WAIT: no owner, not a lifetime of its own
        await Poll(T0.AddSeconds(1), null, listener, quick, slow);
        await Poll(T0.AddSeconds(2), null, listener, slow, waiting); // quick lived 1 s
        var seenClosing = new ClosedSocket(Tcp("10.0.0.1:40003", "10.0.0.5:5432", SocketState.Close), T0.AddSeconds(70), ShortLived: true, Worker, OwnerSource.SameDestination);
        await Poll(T0.AddSeconds(71), [seenClosing], listener); // slow lived 70 s; waiting went after TIME_WAIT
        await _writer.FlushAsync(Ct);

        var lifetimes = await _store.LifetimesAsync(T0, T0.AddMinutes(5), top: 10, Ct);

        Assert.Equal(["api", "worker"], lifetimes.Select(p => p.Process));
        Assert.Equal([0, 0, 1, 0, 1, 0, 0], lifetimes[0].Counts); // 1 s → "1–10 s", 70 s → "1–10 min"
        Assert.Equal([1, 0, 0, 0, 0, 0, 0], lifetimes[1].Counts); // short-lived → "between polls"
        Assert.Equal(LifetimeBuckets.Labels.Length, lifetimes[0].Counts.Length);

        var minutes = await _store.PerMinuteAsync(T0, T0.AddMinutes(2), Ct);
        Assert.Equal([(3, 1), (1, 3)], minutes.Select(m => (m.Opened, m.Closed))); // the listener was open at start: not an opening
        Assert.Equal([T0, T0.AddMinutes(1)], minutes.Select(m => m.Minute));
    }

    [Fact]
    public async Task A_socket_seen_only_closing_is_a_short_lived_row_with_its_owner_and_how_it_was_found()
    {
        await Poll(T0, null);
        var closing = new ClosedSocket(Tcp("127.0.0.1:45000", "127.0.0.1:9000", SocketState.FinWait1), T0.AddMilliseconds(400), true, Api, OwnerSource.Listener);
        await Poll(T0.AddSeconds(1), [closing]);
        await _writer.FlushAsync(Ct);

        var page = await _store.ChangedBetweenAsync(T0, T0.AddSeconds(2), Filter.Parse("port=9000"), null, null, 10, Ct);

        var row = Assert.Single(page.Rows);
        Assert.Equal(HistoryKind.ShortLived, row.Kind);
        Assert.Equal((T0.AddMilliseconds(400), T0.AddMilliseconds(400)), (row.BornAt, row.DiedAt!.Value));
        Assert.Equal(OwnerSource.Listener, row.OwnerSource);
        Assert.Equal("api", Assert.Single(row.Socket.Owners).Name);
        Assert.False(row.IsAliveAt(T0.AddMilliseconds(400)), "a short-lived socket is never in the table at a moment");
    }

    [Fact]
    public async Task A_birth_is_the_feeds_first_seen_time_when_the_recorder_starts_late_or_finds_a_socket_in_a_resync()
    {
        // The feed (its SocketAges) starts watching at T0; the recorder gets its first snapshot two polls later,
        // and finds one more socket only in a resync. Each birth is the feed's first-seen time, so the live age and
        // the history's (and, after a restart, the restored age) are one time.
        var ages = new SocketAges();
        await StopAsync();
        await StartAsync(new HistoryOptions(), ages);
        var listener = Listener("0.0.0.0:8080", Api);
        var early = Tcp("10.0.0.1:40001", "10.0.0.5:5432", SocketState.Established, Api);
        var late = Tcp("10.0.0.1:40002", "10.0.0.5:5432", SocketState.Established, Worker);
        var atStart = Snapshot(T0, [listener]);
        ages.Record(atStart, Delta.Between(PortDashboard.Core.Sockets.Snapshot.Empty, atStart));
        var second = Snapshot(T0.AddSeconds(1), [listener, early]);
        ages.Record(second, Delta.Between(atStart, second));
        var third = Snapshot(T0.AddSeconds(2), [listener, early, late]);
        ages.Record(third, Delta.Between(second, third));

        var recorderFirst = Snapshot(T0.AddSeconds(1), [listener, early]);
        await _recorder.ApplyAsync(recorderFirst, [], resync: false, [], Ct);
        await _recorder.ApplyAsync(third, [], resync: true, [], Ct);
        var unknown = Tcp("10.0.0.1:40003", "10.0.0.5:5432", SocketState.Established, Worker); // not in the feed's ages
        await _recorder.ApplyAsync(Snapshot(T0.AddSeconds(3), [listener, early, late, unknown]), [], resync: true, [], Ct);
        await _writer.FlushAsync(Ct);

        var rows = (await _store.AliveAtAsync(T0.AddSeconds(3), Filter.Empty, null, null, 100, Ct)).Rows;
        Assert.Equal((HistoryKind.OpenAtStart, T0), Birth(8080));
        Assert.Equal((HistoryKind.Opened, T0.AddSeconds(1)), Birth(40001)); // seen opening by the feed, not open at start
        Assert.Equal((HistoryKind.Opened, T0.AddSeconds(2)), Birth(40002));
        Assert.Equal((HistoryKind.Opened, T0.AddSeconds(3)), Birth(40003)); // no first-seen time known: the snapshot's

        (HistoryKind, DateTimeOffset) Birth(int port) => rows.Single(r => r.Socket.Local.Port == port) is var row ? (row.Kind, row.BornAt) : default;
    }

    [Fact]
    public async Task A_restart_carries_on_the_lives_still_open_and_closes_the_ones_that_went_meanwhile()
    {
        var listener = Listener("0.0.0.0:8080", Api);
        var kept = Tcp("10.0.0.1:40001", "10.0.0.5:5432", SocketState.Established, Api);
        var lost = Tcp("10.0.0.1:40002", "10.0.0.5:5432", SocketState.Established, Worker);
        await Poll(T0, null, listener);
        await Poll(T0.AddSeconds(5), null, listener, kept, lost);
        await StopAsync(); // the app stops: whatever is queued is written

        var resume = await StartAsync(new HistoryOptions());
        Assert.Equal(T0.AddSeconds(5), resume.LastHeartbeat);
        Assert.Equal(3, resume.OpenRows.Length);
        _previous = PortDashboard.Core.Sockets.Snapshot.Empty;
        await Poll(T0.AddMinutes(10), null, listener, kept);
        await _writer.FlushAsync(Ct);

        var rows = (await _store.ChangedBetweenAsync(T0, T0.AddHours(1), Filter.Empty, null, null, 100, Ct)).Rows;
        Assert.Equal(3, rows.Count); // no new row for the sockets still open
        var keptRow = rows.Single(r => r.Socket.Local.Port == 40001);
        Assert.Equal((HistoryKind.Opened, T0.AddSeconds(5), (DateTimeOffset?)null), (keptRow.Kind, keptRow.BornAt, keptRow.DiedAt));
        var lostRow = rows.Single(r => r.Socket.Local.Port == 40002);
        Assert.True(lostRow.DiedUnwatched);
        Assert.Equal(T0.AddSeconds(5), lostRow.DiedAt); // at or before the last poll of the previous run
        Assert.Equal(HistoryKind.OpenAtStart, rows.Single(r => r.Socket.Local.Port == 8080).Kind);
    }

    [Fact]
    public async Task The_database_keeps_to_its_row_bound()
    {
        await StopAsync();
        await StartAsync(new HistoryOptions { MaxRows = 1000, BatchSize = 500 });
        await Poll(T0, null);
        for (var i = 0; i < 6; i++)
        {
            var sockets = Enumerable.Range(0, 500).Select(p => Tcp($"10.0.{i}.1:{40000 + p}", "10.0.0.5:5432", SocketState.Established)).ToArray();
            await Poll(T0.AddSeconds(i + 1), null, sockets);
        }

        await _writer.FlushAsync(Ct);

        var extent = await _store.ExtentAsync(Ct);
        Assert.Equal(1000, extent.Rows); // every transaction keeps to the bound
        Assert.True(_writer.Pruned >= 2000, $"pruned {_writer.Pruned} of 3000 rows");
        Assert.Equal(500, (await _store.AliveAtAsync(T0.AddSeconds(6.5), Filter.Empty, null, null, 10_000, Ct)).Rows.Count); // the newest kept
    }

    [Fact]
    public async Task Sockets_dead_longer_than_the_age_bound_are_deleted()
    {
        await StopAsync();
        await StartAsync(new HistoryOptions { MaxAge = TimeSpan.FromMinutes(5), PruneInterval = TimeSpan.FromSeconds(1) });
        var listener = Listener("0.0.0.0:8080", Api);
        var old = Tcp("10.0.0.1:40001", "10.0.0.5:5432", SocketState.Established, Api);
        await Poll(T0, null, listener, old);
        await Poll(T0.AddSeconds(1), null, listener);
        await _writer.FlushAsync(Ct);
        Assert.Equal(2, (await _store.ExtentAsync(Ct)).Rows);

        _host.Time.SetUtcNow(T0.AddMinutes(10));
        await Poll(T0.AddMinutes(10), null, listener);
        await _writer.FlushAsync(Ct);
        await _writer.FlushAsync(Ct);

        Assert.Equal(1, (await _store.ExtentAsync(Ct)).Rows); // the listener, alive, stays
        Assert.Equal(["*:8080>*:*"], await AliveAt(T0.AddMinutes(10)));
    }

    [Fact]
    public void The_file_is_in_wal_mode()
    {
        using var connection = _store.Open();
        Assert.Equal("wal", HistoryStore.Scalar(connection, "PRAGMA journal_mode;") as string);
    }

    [Theory]
    [InlineData("now", 0)]
    [InlineData("-90s", -90)]
    [InlineData("-5m", -300)]
    [InlineData("-2h", -7200)]
    [InlineData("-1d", -86400)]
    [InlineData("2026-05-01T11:59:00Z", -60)]
    [InlineData("2026-05-01T13:59:00+02:00", -60)]
    [InlineData("2026-05-01 11:59:00", -60)]
    public void Times_are_iso_8601_now_or_a_time_before_now(string text, int secondsFromNow)
    {
        var now = T0;
        Assert.True(HistoryTime.TryParse(text, now, out var at, out var error), error);
        Assert.Equal(now.AddSeconds(secondsFromNow), at);
    }

    [Theory]
    [InlineData("")]
    [InlineData("yesterday")]
    [InlineData("-5x")]
    [InlineData("12")]
    [InlineData("2026-13-45T00:00:00Z")]
    public void A_bad_time_says_what_is_accepted(string text)
    {
        Assert.False(HistoryTime.TryParse(text, T0, out _, out var error));
        Assert.Contains("ISO 8601", error, StringComparison.Ordinal);
    }
}
