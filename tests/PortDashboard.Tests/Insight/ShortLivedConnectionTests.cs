using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using PortDashboard.Core.Filtering;
using PortDashboard.Insight.History;
using PortDashboard.Insight.ShortLived;
using PortDashboard.Tests.Insight.Support;
using PortDashboard.Tests.Support;

namespace PortDashboard.Tests.Insight;

/// <summary>
/// Connections that open and close between two polls, on real loopback sockets, in the real app. The polls are driven
/// by a fake clock, so "between two polls" is exact. Tests run as root here, which has CAP_NET_ADMIN.
/// </summary>
public sealed class ShortLivedConnectionTests
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task A_thousand_connections_opened_and_closed_between_two_polls_are_each_counted_as_short_lived()
    {
        var ct = TestContext.Current.CancellationToken;
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = new InsightApp(
            new Dictionary<string, string?> { ["PortDashboard:PollInterval"] = "00:00:01", ["PortDashboard:MinimumBatchInterval"] = "00:00:00" },
            services => services.AddSingleton<TimeProvider>(clock));
        await Eventually.WaitUntil(() => app.State.ShortLived.Status.IsCapturing || app.State.ShortLived.Status.IsNotCaptured, "the destroy capture started");
        Assert.True(app.State.ShortLived.Status.IsCapturing, $"needs CAP_NET_ADMIN (root): {app.State.ShortLived.Status.Reason}");
        await Eventually.WaitUntil(() => app.Service.Batches >= 1, "the first poll was applied");
        var start = clock.GetUtcNow();

        using var listener = new InsightApp.Listener();
        const int connections = 1000;
        for (var i = 0; i < connections; i++)
        {
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, listener.Port), ct);
            using var accepted = await listener.Socket.AcceptAsync(ct);
            // A normal close: the full socket is destroyed (and reported) as it enters TIME_WAIT. (An abortive close with
            // SO_LINGER 0 is reported too, but after the kernel has cleared its remote port: it could not be told apart.)
            client.Close();
        }

        // Poll again (and once more per notification that came late) until every one is in the history.
        var clientSide = 0;
        IReadOnlyList<HistoryRow> rows = [];
        var diagnosis = "";
        var seen = Eventually.WaitUntil(async () =>
        {
            var batches = app.Service.Batches;
            clock.Advance(Poll);
            await Eventually.WaitUntil(() => app.Service.Batches > batches, "the next poll was applied");
            await app.Writer.FlushAsync(ct);
            var page = await app.State.Store!.ChangedBetweenAsync(start.AddMinutes(-1), start.AddHours(1), Filter.Parse($"port={listener.Port}"), null, null, 10_000, ct);
            rows = page.Rows;
            clientSide = page.Rows.Count(r => r.Kind == HistoryKind.ShortLived && r.Socket.Remote.Port == listener.Port);
            diagnosis = $"{clientSide} short-lived client rows of {page.Rows.Count} rows; heatmap total {app.State.Pressure.Heatmap.Total}; seen closing {app.State.ShortLived.SeenClosing}, short-lived {app.State.ShortLived.ShortLived}, "
                + $"recent toward the port: {app.State.ShortLived.Recent.Count(c => c.Socket.Remote.Port == listener.Port)}, kinds {string.Join(",", page.Rows.GroupBy(r => r.Kind).Select(g => $"{g.Key}:{g.Count()}"))}";
            // The pressure report (and its heatmap) is refreshed at its own cadence of the clock: poll until it has them too.
            return clientSide >= connections && rows.Count(r => r.Kind == HistoryKind.ShortLived && r.Socket.Local.Port == listener.Port) >= connections
                && app.State.Pressure.Heatmap.Total >= connections;
        }, "every socket of both ends was seen closing, and counted in the heatmap");
        try
        {
            await seen;
        }
        catch (TimeoutException e)
        {
            Assert.Fail($"{e.Message} {diagnosis}");
        }


        Assert.Equal(connections, clientSide);
        Assert.True(app.State.ShortLived.ShortLived >= 2 * connections, "the server-side ends were short-lived too");
        // The server-side ends were never in a snapshot either; the listener that accepted them tells their owner.
        var serverSide = rows.Where(r => r.Kind == HistoryKind.ShortLived && r.Socket.Local.Port == listener.Port).ToList();
        Assert.Equal(connections, serverSide.Count);
        Assert.All(serverSide, r => Assert.Equal(OwnerSource.Listener, r.OwnerSource));
        Assert.All(serverSide, r => Assert.Equal(Environment.ProcessId, Assert.Single(r.Socket.Owners).Pid));
        Assert.True(app.State.Pressure.Heatmap.Total >= connections, "each client's source port is an allocation in the heatmap");

        // The API lists them, as the page's list and the history do.
        var json = await app.GetJsonAsync($"/api/history?from={Uri.EscapeDataString(HistoryTime.Format(start.AddMinutes(-1)))}&to=now&port={listener.Port}&side=remote");
        var shortLived = json.GetProperty("events").EnumerateArray().Where(e => e.GetProperty("event").GetString() == "short-lived").ToList();
        Assert.Equal(connections, shortLived.Count);
        Assert.All(shortLived, e => Assert.Equal(listener.Port, e.GetProperty("socket").GetProperty("remote").GetProperty("port").GetInt32()));
    }
}
