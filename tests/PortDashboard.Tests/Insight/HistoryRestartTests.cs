using System.Text.Json;
using PortDashboard.Tests.Insight.Support;
using PortDashboard.Tests.Support;

namespace PortDashboard.Tests.Insight;

/// <summary>History in a real SQLite file across two runs of the real app, one after the other.</summary>
public sealed class HistoryRestartTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"portdashboard-history-restart-{Guid.NewGuid():N}.db");

    public void Dispose()
    {
        foreach (var file in new[] { _path, _path + "-wal", _path + "-shm" })
        {
            File.Delete(file);
        }
    }

    private Dictionary<string, string?> Settings => new() { ["PortDashboard:History:Path"] = _path };

    private static IEnumerable<JsonElement> Events(JsonElement history, string kind, int localPort) =>
        history.GetProperty("events").EnumerateArray().Where(e =>
            e.GetProperty("event").GetString() == kind && e.GetProperty("socket").GetProperty("local").GetProperty("port").GetInt32() == localPort);

    [Fact]
    public async Task History_survives_a_restart_the_sockets_still_open_keep_their_birth_and_those_gone_meanwhile_are_closed()
    {
        using var listener = new InsightApp.Listener();
        System.Net.Sockets.Socket? closedWhileRunning;
        System.Net.Sockets.Socket? closedWhileStopped;
        DateTimeOffset listenerBorn;
        int closedWhileRunningPort, closedWhileStoppedPort;
        await using (var first = new InsightApp(Settings))
        {
            closedWhileRunning = await listener.ConnectAsync();
            closedWhileStopped = await listener.ConnectAsync();
            closedWhileRunningPort = ((System.Net.IPEndPoint)closedWhileRunning.LocalEndPoint!).Port;
            closedWhileStoppedPort = ((System.Net.IPEndPoint)closedWhileStopped.LocalEndPoint!).Port;
            JsonElement history = default;
            await Eventually.WaitUntil(async () =>
            {
                history = await first.GetJsonAsync($"/api/history?from=-10m&port={listener.Port}");
                return Events(history, "opened", listener.Port).Any() && Events(history, "opened", closedWhileStoppedPort).Any();
            }, "the listener and the connections are in the history");
            listenerBorn = Events(history, "opened", listener.Port).First().GetProperty("bornAt").GetDateTimeOffset();

            closedWhileRunning.Dispose();
            await Eventually.WaitUntil(async () =>
            {
                history = await first.GetJsonAsync($"/api/history?from=-10m&port={listener.Port}");
                return Events(history, "closed", closedWhileRunningPort).Any();
            }, "the closed connection's death is in the history");
        }

        closedWhileStopped.Dispose(); // while no PortDashboard runs

        await using var second = new InsightApp(Settings);
        await second.WaitForBatchesAsync(1, "the first poll after the restart");
        await second.Writer.FlushAsync(TestContext.Current.CancellationToken);
        var after = await second.GetJsonAsync($"/api/history?from=-10m&port={listener.Port}");

        var listenerOpened = Assert.Single(Events(after, "opened", listener.Port), e => e.GetProperty("socket").GetProperty("state").GetString() == "listen");
        Assert.Equal(listenerBorn, listenerOpened.GetProperty("bornAt").GetDateTimeOffset());
        Assert.Equal(JsonValueKind.Null, listenerOpened.GetProperty("diedAt").ValueKind); // still open: the same life goes on
        var closedRunning = Events(after, "closed", closedWhileRunningPort).First();
        Assert.False(closedRunning.GetProperty("diedUnwatched").GetBoolean());
        Assert.True(closedRunning.GetProperty("lifetimeMs").GetInt64() >= 0);
        var closedStopped = Events(after, "closed", closedWhileStoppedPort).First();
        Assert.True(closedStopped.GetProperty("diedUnwatched").GetBoolean(), "it went while nobody watched");
    }
}
