using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR.Client;
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
public sealed class HubChurnTests
{
    private const int Waves = 10;
    private const int PerWave = 50;

    /// <summary>A bound for a loaded machine, not a measure: on a shared CI machine the first Snapshot took over 15 s once.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private static async Task<(double Subscribers, double HubConnections)> GaugesAsync(FakeClockApp app)
    {
        var metrics = PrometheusText.Parse(await app.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative), Cancellation));
        return (metrics.Value("portdashboard_subscribers"), metrics.Value("portdashboard_hub_connections"));
    }

    [Fact]
    public async Task Five_hundred_hub_connections_coming_and_going_leave_no_subscription_behind_and_the_staying_client_misses_no_delta()
    {
        await using var app = await FakeClockApp.StartAsync(new Dictionary<string, string?> { ["PortDashboard:Limits:HubConnections"] = "1000" });
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
                        var first = await Eventually.Within(client.ReadMessageAsync(Cancellation), "a leaving client's first message", Deadline);
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

            await app.Tick();
            var expected = app.Feed.Sequence;
            await Eventually.WaitUntil(() => sequenceWatch.Sequence == expected, $"wave {wave}: the staying client's delta {expected}", Deadline);
            using var healthz = await Eventually.Within(app.Client.GetAsync(new Uri("/healthz", UriKind.Relative), Cancellation), $"wave {wave}: /healthz", Deadline);
            Assert.Equal(System.Net.HttpStatusCode.OK, healthz.StatusCode);
        }

        Assert.Equal(Waves * PerWave, left);
        await Eventually.WaitUntil(async () => await GaugesAsync(app) == (baseSubscribers + 1, baseConnections + 1), "the gauges back at their base plus the staying client", Deadline);
        Assert.Empty(gaps);
        Assert.Equal(HubConnectionState.Connected, staying.State);

        await staying.StopAsync(Cancellation);
        await Eventually.WaitUntil(async () => await GaugesAsync(app) == (baseSubscribers, baseConnections), "the gauges back at their base", Deadline);
    }
}
