using System.Net;
using Microsoft.Extensions.DependencyInjection;
using PortDashboard.Core.Reading;
using PortDashboard.Tests.Metrics;
using PortDashboard.Tests.Support;
using static PortDashboard.Tests.Support.TestSockets;

namespace PortDashboard.Tests.Resilience;

/// <summary>
/// A reader that throws on every third call: every surface keeps serving the last good snapshot and says how old it
/// is (/healthz in words, /metrics as a number, the snapshot's own takenAt), and picks up new ones as reads work again.
/// </summary>
[Collection(nameof(MetricsCollection))]
public sealed class StaleSnapshotTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_third_read_failing_leaves_the_last_good_snapshot_served_with_its_age()
    {
        var reader = new FakeSocketTableReader { FailWhen = call => call % 3 == 0, Sockets = Table(Listener(8080, inode: 1)) };
        await using var app = await FakeClockApp.StartAsync(services: s => s.AddSingleton<ISocketTableReader>(reader));
        await app.Tick(); // call 2: fine
        var (_, good) = await app.GetJson("/api/snapshot");

        reader.Sockets = Table(Listener(8080, inode: 1), Listener(9090, inode: 2));
        await app.Tick(); // call 3: throws

        var (status, served) = await app.GetJson("/api/snapshot");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(good.GetProperty("sequence").GetInt64(), served.GetProperty("sequence").GetInt64());
        Assert.Equal(good.GetProperty("metadata").GetProperty("takenAt").GetDateTimeOffset(), served.GetProperty("metadata").GetProperty("takenAt").GetDateTimeOffset());
        Assert.Equal(1, served.GetProperty("total").GetInt32()); // not the table the failed read would have brought

        var (healthStatus, health) = await app.GetJson("/healthz");
        Assert.Equal(HttpStatusCode.OK, healthStatus);
        Assert.Equal("Degraded", health.GetProperty("status").GetString());
        Assert.Equal(
            $"the last snapshot is 1.0 s old; reads are failing (1 in a row): {FakeSocketTableReader.FailureMessage}",
            health.GetProperty("description").GetString());
        var metrics = PrometheusText.Parse(await app.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative), Cancellation));
        Assert.Equal(1, metrics.Value("portdashboard_snapshot_age_seconds"));

        await app.Tick(); // call 4: fine again
        (_, served) = await app.GetJson("/api/snapshot");
        Assert.Equal(2, served.GetProperty("total").GetInt32());
        Assert.Equal("Healthy", (await app.GetJson("/healthz")).Body.GetProperty("status").GetString());
        await app.Tick(); // call 5
        await app.Tick(); // call 6: throws again
        Assert.Equal(6, reader.Calls);
        Assert.Equal(1, app.Feed.Status.ConsecutiveFailures);
        Assert.Equal(2, PrometheusText.Parse(await app.Client.GetStringAsync(new Uri("/metrics", UriKind.Relative), Cancellation)).Value("portdashboard_snapshot_read_failures_total"));
    }
}
