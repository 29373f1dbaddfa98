using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using PortDashboard.Core.Reading;
using PortDashboard.Api;
using PortDashboard.Hubs;
using PortDashboard.Tests.Metrics;
using PortDashboard.Tests.Support;

namespace PortDashboard.Tests.Resilience;

/// <summary>
/// 500 hub connections on a real Kestrel port, in waves of 50 at once, each leaving in one of three ways: a clean
/// close after its first Snapshot, a clean close right after sending Subscribe (it may leave before the hub has
/// subscribed it), and an abort without a closing handshake. Between waves a poll happens and a client that stays
/// must get its delta; /healthz must answer. At the end the subscriber and hub-connection gauges in /metrics are back
/// at their base. The full minute is a bench run (<c>PortDashboard.Bench churn</c>, docs/benchmarks.md).
/// </summary>
[Collection(nameof(MetricsCollection))]
public sealed class HubChurnTests
{
    private const int Waves = 10;
    private const int PerWave = 50;

    /// <summary>A bound for a loaded machine, not a measure: on a shared CI machine the first Snapshot took over 15 s once.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    /// <summary>The two gauges from one scrape of /metrics (exactly one sample each: see <see cref="MetricsCollection"/>).</summary>
    private static async Task<(double Subscribers, double HubConnections)> GaugesAsync(FakeClockApp app)
    {
        var metrics = PrometheusText.Parse(await app.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative), Cancellation));
        return (metrics.Value("portdashboard_subscribers"), metrics.Value("portdashboard_hub_connections"));
    }

    /// <summary>Waits until a scrape shows <paramref name="expected"/>; a timeout says what the last scrape showed.</summary>
    private static async Task GaugesReachAsync(FakeClockApp app, (double Subscribers, double HubConnections) expected, string what)
    {
        (double Subscribers, double HubConnections)? last = null;
        try
        {
            await Eventually.WaitUntil(async () => (last = await GaugesAsync(app)) == expected, what, Deadline);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException(
                $"{e.Message} Expected {expected}, the last scrape with the gauges showed {last?.ToString() ?? "none"}; the feed counts {app.Feed.SubscriberCount} subscribers.", e);
        }
    }

    /// <summary>200 connections, 20 of them new in each wave.</summary>
    private static System.Collections.Immutable.ImmutableArray<PortDashboard.Core.Sockets.Socket> Table(int wave) =>
    [
        .. Enumerable.Range(0, 200).Select(i =>
            TestSockets.Connection(40_000 + i, 8080, inode: i < 20 ? (wave * 1000L) + i + 1 : 1_000_000L + i)),
    ];

    [Fact]
    public async Task Five_hundred_hub_connections_coming_and_going_leave_no_subscription_behind_and_the_staying_client_misses_no_delta()
    {
        // A table of its own, so that fifty Snapshots at once cost the same on any machine (a shared one's table can
        // be tens of thousands of sockets), changed every wave so that each poll makes a delta.
        var reader = new FakeSocketTableReader { Sockets = Table(wave: 0) };
        await using var app = await FakeClockApp.StartAsync(
            new Dictionary<string, string?>
            {
                ["PortDashboard:Limits:HubConnections"] = "1000",
                // A wave of 50 clients each reading its first Snapshot on a loaded machine must not meet the drop of a
                // client that reads nothing (SlowHubClientTests pins that); here every client reads or leaves.
                ["PortDashboard:Limits:HubSendTimeout"] = "00:02:00",
            },
            services => services.AddSingleton<ISocketTableReader>(reader));
        var hubUrl = new Uri(app.BaseAddress, SocketsHub.Path);
        var (baseSubscribers, baseConnections) = await GaugesAsync(app);

        await using var staying = new HubConnectionBuilder().WithUrl(hubUrl).Build();
        var sequenceWatch = new DeltaSequence(staying);
        var gaps = sequenceWatch.Gaps;
        await staying.StartAsync(Cancellation);
        await staying.InvokeAsync<string>("Subscribe", null, Cancellation);
        await Eventually.WaitUntil(() => sequenceWatch.Sequence >= 0, "the staying client's Snapshot", Deadline);
        Assert.True(sequenceWatch.Sequence == app.Feed.Sequence, $"feed at {app.Feed.Sequence}, client at {sequenceWatch.Sequence}, gaps {string.Join("; ", gaps)}");

        var left = 0;
        for (var wave = 0; wave < Waves; wave++)
        {
            await Task.WhenAll(Enumerable.Range(0, PerWave).Select(async i =>
            {
                var client = await RawHubClient.ConnectAsync(hubUrl, Cancellation);
                await client.InvokeAsync("Subscribe", "[null]", Cancellation);
                switch (i % 3)
                {
                    case 0:
                        // The first message that is not the server's keep-alive ping (sent every 15 s, so a slow wave sees one).
                        string? first;
                        do
                        {
                            first = await Eventually.Within(client.ReadMessageAsync(Cancellation), "a leaving client's first message", Deadline);
                        }
                        while (first == "{\"type\":6}");

                        Assert.Contains("\"target\":\"Snapshot\"", first, StringComparison.Ordinal);
                        await client.DisposeAsync();
                        break;
                    case 1:
                        await client.DisposeAsync(); // perhaps before the hub has handled Subscribe
                        break;
                    default:
                        client.Abort();
                        await client.DisposeAsync();
                        break;
                }

                Interlocked.Increment(ref left);
            }));

            reader.Sockets = Table(wave + 1);
            await app.Tick();
            var expected = app.Feed.Sequence;
            await Eventually.WaitUntil(() => sequenceWatch.Sequence == expected, $"wave {wave}: the staying client's delta {expected}", Deadline);
            using var healthz = await Eventually.Within(app.Client.GetAsync(new Uri("/healthz", UriKind.Relative), Cancellation), $"wave {wave}: /healthz", Deadline);
            Assert.Equal(System.Net.HttpStatusCode.OK, healthz.StatusCode);
        }

        Assert.Equal(Waves * PerWave, left);
        await GaugesReachAsync(app, (baseSubscribers + 1, baseConnections + 1), "the gauges back at their base plus the staying client");
        Assert.Empty(gaps);
        Assert.Equal(HubConnectionState.Connected, staying.State);

        await staying.StopAsync(Cancellation);
        await GaugesReachAsync(app, (baseSubscribers, baseConnections), "the gauges back at their base");
    }
}
