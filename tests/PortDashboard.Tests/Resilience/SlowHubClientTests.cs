using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using PortDashboard.Api;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Sockets;
using PortDashboard.Hubs;
using PortDashboard.Tests.Support;
using Serilog.Core;
using Serilog.Events;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Tests.Resilience;

/// <summary>
/// Two hub clients over WebSockets on a real Kestrel port: the SignalR client, and one that stops reading its socket
/// (<see cref="RawHubClient"/>: the SignalR client would keep reading into memory whatever its handlers do). Every poll
/// replaces the whole table, so each delta is megabytes and the server's buffers and the kernel's fill within a few
/// polls. The reading client gets every delta, in order, before the next poll; the stalled one is resynced, and that
/// is logged (by the feed, and by the hub with its connection id once it reads again). A client that stops reading
/// for longer than <c>PortDashboard:Limits:HubSendTimeout</c> is dropped instead: the first test sets it long, so
/// that a loaded machine's slow polls never turn its resync into a drop; the second sets it short and sees the drop.
/// </summary>
public sealed class SlowHubClientTests
{
    private const int SocketsPerTable = 5000;
    private const int Backlog = 4;
    private const int MaxPolls = 60;

    /// <summary>A bound for a test on a loaded machine, not the measure of "on time": the next poll waits for the delta.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    /// <summary>A table of <see cref="SocketsPerTable"/> connections none of which was in the previous one.</summary>
    private static ImmutableArray<Socket> FreshTable(int generation) =>
    [
        .. Enumerable.Range(0, SocketsPerTable).Select(i =>
            TestSockets.Connection(40_000 + i, 8080, inode: (generation * 100_000L) + i + 1)),
    ];

    [Fact]
    public async Task A_client_that_stops_reading_is_resynced_and_logged_while_the_others_get_every_delta_on_time()
    {
        var reader = new FakeSocketTableReader();
        var log = new CapturedLog();
        await using var app = await FakeClockApp.StartAsync(
            new Dictionary<string, string?>
            {
                ["PortDashboard:SubscriberBacklog"] = Backlog.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["PortDashboard:Limits:HubSendTimeout"] = "00:10:00",
            },
            services =>
            {
                services.AddSingleton<ISocketTableReader>(reader);
                services.AddSingleton<ILogEventSink>(log);
            });
        var hubUrl = new Uri(app.BaseAddress, SocketsHub.Path);

        // The fast client checks each delta follows the previous message.
        await using var fast = new HubConnectionBuilder().WithUrl(hubUrl).Build();
        var fastSequenceWatch = new DeltaSequence(fast);
        var fastGaps = fastSequenceWatch.Gaps;

        // The stalled client: a bare WebSocket that subscribes and then reads nothing (but keeps pinging).
        await using var stalled = await RawHubClient.ConnectAsync(hubUrl, Cancellation);

        // The app's own in-process subscribers (the insight service) are there from start-up: count on top of them.
        var inProcess = app.Feed.SubscriberCount;
        await fast.StartAsync(Cancellation);
        await fast.InvokeAsync<string>("Subscribe", null, Cancellation);
        await stalled.InvokeAsync("Subscribe", "[null]", Cancellation);
        await Eventually.WaitUntil(() => fastSequenceWatch.Sequence == app.Feed.Sequence && app.Feed.SubscriberCount == inProcess + 2, "both clients subscribed");

        var polls = 0;
        while (app.Feed.ResyncCount == 0)
        {
            Assert.True(++polls <= MaxPolls, $"the stalled client was not resynced within {MaxPolls} polls");
            reader.Sockets = FreshTable(polls);
            await app.Tick();
            await stalled.PingAsync(Cancellation);
            var sequence = app.Feed.Sequence;

            // On time: the fast client has this poll's delta before the next poll happens.
            await Eventually.WaitUntil(() => fastSequenceWatch.Sequence == sequence, $"the fast client to get delta {sequence}", Deadline);
        }

        for (var i = 0; i < 3; i++)
        {
            reader.Sockets = FreshTable(++polls);
            await app.Tick();
            await stalled.PingAsync(Cancellation);
            var sequence = app.Feed.Sequence;
            await Eventually.WaitUntil(() => fastSequenceWatch.Sequence == sequence, $"the fast client to get delta {sequence} after the resync", Deadline);
        }

        Assert.Empty(fastGaps);

        // Bounded while it stalls: its queue stops at the backlog, and its subscription waits on one send.
        Assert.InRange(app.Feed.Backlog.Longest, 1, Backlog);
        var subscriptions = app.Factory.Services.GetRequiredService<HubSubscriptions>();
        await Eventually.WaitUntil(() => subscriptions.SendsWaiting >= 1, "the stalled client's subscription to wait on its send");
        var fellBehind = Assert.Single(log.Where("Subscriber {SubscriberId} fell {Backlog} deltas behind"));
        Assert.Equal(LogEventLevel.Warning, fellBehind.Level);
        Assert.Equal(Backlog, CapturedLog.Scalar(fellBehind, "Backlog"));

        // Once it reads again, the stalled client gets what the buffers held and then a fresh Snapshot to start over from.
        var snapshots = 0;
        string? message;
        while (snapshots < 2 && (message = await Eventually.Within(stalled.ReadMessageAsync(Cancellation), "the stalled client's next message", Deadline)) is not null)
        {
            if (message.Contains("\"target\":\"Snapshot\"", StringComparison.Ordinal))
            {
                snapshots++;
            }
        }

        Assert.Equal(2, snapshots);
        var logged = Assert.Single(log.Where("Hub connection {ConnectionId} fell behind"));
        Assert.NotEqual(fast.ConnectionId, CapturedLog.Scalar(logged, "ConnectionId"));
        Assert.Equal(HubConnectionState.Connected, fast.State);
        TestContext.Current.TestOutputHelper?.WriteLine($"resynced after {polls} polls of {SocketsPerTable} new sockets each");
    }

    [Fact]
    public async Task A_client_that_reads_nothing_for_longer_than_the_send_timeout_is_dropped_and_the_others_go_on_without_a_gap()
    {
        var reader = new FakeSocketTableReader();
        var log = new CapturedLog();
        await using var app = await FakeClockApp.StartAsync(
            new Dictionary<string, string?>
            {
                ["PortDashboard:SubscriberBacklog"] = "1000", // no resync: only the send timeout can end the stall
                ["PortDashboard:Limits:HubSendTimeout"] = "00:00:02",
            },
            services =>
            {
                services.AddSingleton<ISocketTableReader>(reader);
                services.AddSingleton<ILogEventSink>(log);
            });
        var hubUrl = new Uri(app.BaseAddress, SocketsHub.Path);
        var limit = app.Factory.Services.GetRequiredService<PortDashboard.Security.HubConnectionLimit>();

        await using var fast = new HubConnectionBuilder().WithUrl(hubUrl).Build();
        var fastSequenceWatch = new DeltaSequence(fast);
        await using var stalled = await RawHubClient.ConnectAsync(hubUrl, Cancellation);
        var inProcess = app.Feed.SubscriberCount;
        await fast.StartAsync(Cancellation);
        await fast.InvokeAsync<string>("Subscribe", null, Cancellation);
        await stalled.InvokeAsync("Subscribe", "[null]", Cancellation);
        await Eventually.WaitUntil(() => fastSequenceWatch.Sequence == app.Feed.Sequence && app.Feed.SubscriberCount == inProcess + 2, "both clients subscribed");
        Assert.Equal(2, limit.Open);

        // Polls of megabytes each fill the stalled client's buffers; then one send waits, and after 2 s the hub drops it.
        var polls = 0;
        while (limit.Open > 1)
        {
            Assert.True(++polls <= MaxPolls, $"the stalled client was not dropped within {MaxPolls} polls");
            reader.Sockets = FreshTable(polls);
            await app.Tick();
            var sequence = app.Feed.Sequence;
            await Eventually.WaitUntil(() => fastSequenceWatch.Sequence == sequence, $"the fast client to get delta {sequence}", Deadline);
            await Task.Delay(TimeSpan.FromMilliseconds(500), Cancellation); // the send timeout counts real time
        }

        await Eventually.WaitUntil(() => app.Feed.SubscriberCount == inProcess + 1, "the dropped client's subscription to end", Deadline);
        reader.Sockets = FreshTable(++polls);
        await app.Tick();
        await Eventually.WaitUntil(() => fastSequenceWatch.Sequence == app.Feed.Sequence, "the fast client's delta after the drop", Deadline);
        Assert.Empty(fastSequenceWatch.Gaps);
        Assert.Equal(HubConnectionState.Connected, fast.State);
        Assert.Empty(log.Where("Subscriber {SubscriberId} fell {Backlog} deltas behind"));

        // The stalled client, reading again, finds what its buffers held and then the end of the connection.
        string? message;
        var read = 0;
        try
        {
            while ((message = await Eventually.Within(stalled.ReadMessageAsync(Cancellation), "the dropped client's buffered messages and then the end", Deadline)) is not null)
            {
                read++;
            }
        }
        catch (System.Net.WebSockets.WebSocketException)
        {
            // the hub aborted the connection: no closing handshake is what a drop looks like
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"dropped after {polls} polls of {SocketsPerTable} new sockets each; {read} buffered messages read after the drop");
    }
}
