using System.Net;
using PortDashboard.Core.Reading;
using Microsoft.Extensions.DependencyInjection;

namespace PortDashboard.Tests.Resilience;

/// <summary>
/// The real app reading a proc root of files (a temporary directory shaped like /proc) that goes missing, turns
/// unreadable and comes back: the app stays up, /healthz and the feed's status say what is wrong, and it recovers by
/// itself, choosing its reader again.
/// </summary>
public sealed class ProcRootTests : IDisposable
{
    private const string Header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

    private readonly string _root = Directory.CreateTempSubdirectory("portdashboard-procroot-").FullName;

    private string ProcRoot => Path.Combine(_root, "proc");

    private string Moved => Path.Combine(_root, "moved-away");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>Writes <c>net/tcp</c> with one socket listening on 127.0.0.1:<paramref name="port"/>.</summary>
    private void WriteTable(int port, long inode)
    {
        Directory.CreateDirectory(Path.Combine(ProcRoot, "net"));
        File.WriteAllText(
            Path.Combine(ProcRoot, "net", "tcp"),
            Header + $"   0: 0100007F:{port:X4} 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 {inode} 1 0000000000000000 100 0 0 10 0\n");
    }

    private Task<FakeClockApp> StartApp() =>
        FakeClockApp.StartAsync(new Dictionary<string, string?> { ["PortDashboard:ProcRoot"] = ProcRoot });

    /// <summary>The listening ports the API serves, as "8080,9090".</summary>
    private static async Task<string> ListeningPorts(FakeClockApp app)
    {
        var (status, body) = await app.GetJson("/api/snapshot?state=listen");
        Assert.Equal(HttpStatusCode.OK, status);
        return string.Join(',', body.GetProperty("sockets").EnumerateArray().Select(s => s.GetProperty("local").GetProperty("port").GetInt32()));
    }

    [Fact]
    public async Task A_proc_root_that_vanishes_makes_the_app_unhealthy_without_crashing_and_it_recovers_when_it_is_back()
    {
        WriteTable(8080, inode: 4242);
        await using var app = await StartApp();
        Assert.Equal("8080", await ListeningPorts(app));
        Assert.Equal("proc-net", app.Feed.Current.Reader);

        Directory.Move(ProcRoot, Moved);
        await app.Tick();

        var status = app.Feed.Status;
        Assert.True(status.IsFailing, "the failed read shows in the status the banner reads");
        Assert.Contains($"the proc root {ProcRoot} does not exist", status.LastError, StringComparison.Ordinal);
        var (code, health) = await app.GetJson("/healthz");
        Assert.Equal((HttpStatusCode.OK, "Degraded"), (code, health.GetProperty("status").GetString()));

        await app.TickUntil(() => app.Time.GetUtcNow() - app.Feed.Status.LastSuccessAt > 5 * FakeClockApp.PollInterval, "the last snapshot is stale");
        (code, health) = await app.GetJson("/healthz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, code);
        Assert.Contains("does not exist", health.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal("8080", await ListeningPorts(app)); // still serving the last good snapshot

        Directory.Move(Moved, ProcRoot);
        WriteTable(9090, inode: 4343);
        await app.TickUntil(() => !app.Feed.Status.IsFailing, "reads work again");

        Assert.Equal("9090", await ListeningPorts(app));
        (code, health) = await app.GetJson("/healthz");
        Assert.Equal((HttpStatusCode.OK, "Healthy"), (code, health.GetProperty("status").GetString()));
        Assert.False(app.Service.ExecuteTask!.IsCompleted, "the snapshot service never stopped");
    }

    [Fact]
    public async Task A_proc_root_missing_at_start_is_reported_and_picked_up_when_it_appears()
    {
        await using var app = await StartApp();

        Assert.True(app.Feed.Status.IsFailing);
        Assert.Contains("does not exist", app.Feed.Status.LastError, StringComparison.Ordinal);
        var reader = Assert.IsType<ReselectingReader>(app.Factory.Services.GetRequiredService<ISocketTableReader>());
        Assert.Equal("none", reader.Name);
        await app.TickUntil(() => app.Time.GetUtcNow() - app.Feed.StartedAt > 5 * FakeClockApp.PollInterval, "five intervals without a snapshot");
        var (code, health) = await app.GetJson("/healthz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, code);
        Assert.StartsWith("no snapshot yet", health.GetProperty("description").GetString(), StringComparison.Ordinal);

        WriteTable(7070, inode: 77);
        await app.TickUntil(() => !app.Feed.Status.IsFailing, "the proc root is read once it exists");

        Assert.Equal("7070", await ListeningPorts(app));
        Assert.Equal("proc-net", reader.Name); // not the portable reader a start without /proc would have kept
        Assert.Equal((HttpStatusCode.OK, "Healthy"), ((await app.GetJson("/healthz")).Status, (await app.GetJson("/healthz")).Body.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task An_unreadable_socket_table_is_reported_with_its_path_and_recovers()
    {
        WriteTable(8080, inode: 4242);
        await using var app = await StartApp();

        var table = Path.Combine(ProcRoot, "net", "tcp");
        File.Delete(table);
        Directory.CreateDirectory(table); // a path that exists but cannot be read as the table (root reads any file)
        await app.Tick();

        Assert.Contains($"the proc root {ProcRoot} has no readable net/tcp", app.Feed.Status.LastError, StringComparison.Ordinal);

        Directory.Delete(table);
        WriteTable(8081, inode: 4244);
        await app.TickUntil(() => !app.Feed.Status.IsFailing, "reads work again");
        Assert.Equal("8081", await ListeningPorts(app));
    }
}
