using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using PortDashboard.Core.Reading;
using PortDashboard.Insight;
using PortDashboard.Insight.History;
using PortDashboard.Tests.Support;

namespace PortDashboard.Tests.Resilience;

/// <summary>
/// The wall clock set back and forth under the running app, as an operator's date command or an NTP step does: the
/// timers are monotonic (the fake clock the test advances), only <see cref="TimeProvider.GetUtcNow"/> jumps. Polls keep
/// their cadence, the backoff after a failed read is not held off by an hour, the pressure view and the history go on,
/// and no age or lifetime comes out negative.
/// </summary>
public sealed partial class ClockJumpTests
{
    private static readonly TimeSpan Jump = TimeSpan.FromHours(1);

    /// <summary>Wall time = the fake clock + <see cref="Offset"/>; timers and timestamps are the fake clock's.</summary>
    private sealed class JumpingClock(FakeTimeProvider inner) : TimeProvider
    {
        private long _offsetTicks;

        public TimeSpan Offset
        {
            get => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));
            set => Interlocked.Exchange(ref _offsetTicks, value.Ticks);
        }

        public override DateTimeOffset GetUtcNow() => inner.GetUtcNow() + Offset;

        public override long GetTimestamp() => inner.GetTimestamp();

        public override long TimestampFrequency => inner.TimestampFrequency;

        public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            inner.CreateTimer(callback, state, dueTime, period);
    }

    [GeneratedRegex(@"-[0-9.]+ s")]
    private static partial Regex NegativeAge(); // "the last snapshot is -3599.0 s old"

    [Fact]
    public async Task Polls_pressure_history_and_ages_go_on_when_the_clock_jumps_back_and_forth()
    {
        var reader = new FakeSocketTableReader();
        JumpingClock? clock = null;
        var log = new CapturedLog();
        await using var app = await FakeClockApp.StartAsync(
            services: services =>
            {
                services.AddSingleton<ISocketTableReader>(reader);
                services.AddSingleton<Serilog.Core.ILogEventSink>(log);
            },
            clock: fake => clock = new JumpingClock(fake));
        var state = app.Factory.Services.GetRequiredService<InsightState>();
        var writer = app.Factory.Services.GetRequiredService<HistoryWriter>();

        reader.Sockets = [TestSockets.Connection(41_000, 5432, inode: 1), TestSockets.Connection(41_001, 5432, inode: 2)];
        await app.TickUntil(() => app.Feed.Sequence >= 1 && state.Pressure.HasData, "the first sockets and a pressure report");

        foreach (var offset in new[] { -Jump, Jump, -24 * Jump, TimeSpan.Zero })
        {
            clock!.Offset = offset;
            var ticks = app.Service.Ticks;
            var sequence = app.Feed.Sequence;

            // A socket goes (died "before" it was born when the clock went back) and one comes: a delta per jump.
            reader.Sockets = [reader.Sockets[^1], TestSockets.Connection(41_002 + (int)app.Feed.Sequence, 5432, inode: 10 + app.Feed.Sequence)];
            await app.Tick();
            Assert.True(app.Service.Ticks > ticks, $"polls stopped after a jump to {offset}");
            Assert.True(app.Feed.Sequence > sequence, $"no delta after a jump to {offset}");
            var now = clock.GetUtcNow();
            // The delta is published; the insight loop applies it on its own thread (no further poll needed).
            await Eventually.WaitUntil(
                () => state.Pressure.At >= now,
                $"the pressure report ({state.Pressure.At}) to follow a jump to {offset} ({now}); errors: {string.Join("; ", log.Events.Where(e => e.Level >= Serilog.Events.LogEventLevel.Error).Select(e => e.RenderMessage() + " " + e.Exception?.Message))}");

            using var health = await app.Client.GetAsync(new Uri("/healthz", UriKind.Relative), TestContext.Current.CancellationToken);
            var healthText = await health.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.DoesNotMatch(NegativeAge(), healthText);
        }

        await writer.FlushAsync(TestContext.Current.CancellationToken);
        var (status, body) = await app.GetJson("/api/history?from=2025-12-30T00:00:00Z&to=2026-01-03T00:00:00Z&port=5432");
        Assert.Equal(HttpStatusCode.OK, status);
        var lifetimes = body.GetProperty("events").EnumerateArray()
            .Select(e => e.GetProperty("lifetimeMs"))
            .Where(l => l.ValueKind == System.Text.Json.JsonValueKind.Number)
            .Select(l => l.GetInt64())
            .ToList();
        Assert.NotEmpty(lifetimes);
        Assert.All(lifetimes, l => Assert.True(l >= 0, $"a negative lifetime: {l} ms"));
        Assert.Empty(log.Events.Where(e => e.Level >= Serilog.Events.LogEventLevel.Error).Select(e => e.RenderMessage() + " " + e.Exception));
    }

    [Fact]
    public async Task A_clock_set_back_during_the_backoff_after_failed_reads_does_not_hold_off_the_retry()
    {
        var reader = new FakeSocketTableReader();
        JumpingClock? clock = null;
        await using var app = await FakeClockApp.StartAsync(services: services => services.AddSingleton<ISocketTableReader>(reader), clock: fake => clock = new JumpingClock(fake));

        reader.FailWhen = _ => true;
        await app.TickUntil(() => app.Feed.Status.ConsecutiveFailures >= 2, "two failed reads in a row");
        clock!.Offset = -Jump;
        reader.FailWhen = _ => false;

        // The backoff is at most MaximumBackoff of monotonic time: the next good read comes within it, not an hour later.
        var calls = reader.Calls;
        await app.TickUntil(() => app.Feed.Status.ConsecutiveFailures == 0, "a successful read after the clock went back", maxTicks: 40);
        Assert.True(reader.Calls > calls);
    }
}
