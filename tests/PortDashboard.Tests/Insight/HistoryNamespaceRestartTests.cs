using System.Net;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using PortDashboard.Testing;
using PortDashboard.Tests.Insight.Support;
using PortDashboard.Tests.Support;

namespace PortDashboard.Tests.Insight;

/// <summary>
/// The history keeps each socket's network namespace: with <c>PortDashboard:Namespaces:Enabled</c>, a listener of a real
/// namespace (<c>pd-netns-hist-PID</c>; root) open across a restart keeps its birth, like a host's; a history file
/// written before the column existed opens, its rows the host's.
/// </summary>
public sealed class HistoryNamespaceRestartTests : IAsyncLifetime
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"portdashboard-history-netns-{Guid.NewGuid():N}.db");
    private NetworkNamespace _namespace = default!;

    /// <summary>
    /// The app reads every namespace of the machine: on a shared one with dozens of other namespaces and a high load, its
    /// first polls take longer than the usual wait.
    /// </summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public async ValueTask InitializeAsync()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() && Environment.UserName == "root", "network namespaces need Linux and root (ip netns add, setns)");
        _namespace = await NetworkNamespace.CreateAsync("pd-netns", "hist");
        _namespace.Listen(IPAddress.Loopback, 7070, connections: 0);
    }

    private Dictionary<string, string?> Settings => new()
    {
        ["PortDashboard:History:Path"] = _path,
        ["PortDashboard:Namespaces:Enabled"] = "true",
    };

    private static IEnumerable<JsonElement> Opened(JsonElement history) =>
        history.GetProperty("events").EnumerateArray().Where(e =>
            e.GetProperty("event").GetString() == "opened" && e.GetProperty("socket").GetProperty("state").GetString() == "listen");

    [Fact]
    public async Task A_namespaced_listener_open_across_a_restart_keeps_its_birth()
    {
        DateTimeOffset born;
        long inode;
        await using (var first = new InsightApp(Settings))
        {
            var feed = first.Get<PortDashboard.Monitoring.ISnapshotFeed>();
            Assert.IsType<PortDashboard.Core.Reading.Namespaces.NamespacedReader>(first.Get<PortDashboard.Core.Reading.ISocketTableReader>());
            await Eventually.WaitUntil(
                () => feed.Current.Sockets.Any(x => x.Namespace.Name == _namespace.Name && x.Local.Port == 7070),
                $"the listener of {_namespace.Name} is read", Patience);
            inode = feed.Current.Sockets.First(x => x.Namespace.Name == _namespace.Name).Namespace.Inode;
            JsonElement history = default;
            await Eventually.WaitUntil(async () =>
            {
                // The history keeps the namespace's inode, not its name.
                history = await first.GetJsonAsync($"/api/history?from=-10m&port=7070&netns={inode}");
                return Opened(history).Any();
            }, $"the listener of {_namespace.Name} is in the history", Patience);
            born = Assert.Single(Opened(history)).GetProperty("bornAt").GetDateTimeOffset();
        }

        using (var connection = new SqliteConnection($"Data Source={_path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM sockets WHERE local_port = 7070 AND netns <> 0 AND died_at IS NULL;";
            Assert.Equal(1L, (long)command.ExecuteScalar()!);
        }

        await using var second = new InsightApp(Settings);
        var batches = second.Service.Batches;
        await Eventually.WaitUntil(() => second.Service.Batches > batches, "the first poll after the restart", Patience);
        await second.Writer.FlushAsync(TestContext.Current.CancellationToken);
        var after = await second.GetJsonAsync("/api/history?from=-10m&port=7070");

        var opened = Assert.Single(Opened(after)); // the same life, not a second one born at the restart
        Assert.Equal(born, opened.GetProperty("bornAt").GetDateTimeOffset());
        Assert.Equal(JsonValueKind.Null, opened.GetProperty("diedAt").ValueKind);
    }

    [Fact]
    public async Task A_history_file_from_before_namespaces_opens_and_its_rows_are_the_hosts()
    {
        using var listener = new InsightApp.Listener();
        var settings = new Dictionary<string, string?> { ["PortDashboard:History:Path"] = _path };
        DateTimeOffset born;
        await using (var first = new InsightApp(settings))
        {
            JsonElement history = default;
            await Eventually.WaitUntil(async () =>
            {
                history = await first.GetJsonAsync($"/api/history?from=-10m&port={listener.Port}");
                return Opened(history).Any();
            }, "the host's listener is in the history");
            born = Assert.Single(Opened(history)).GetProperty("bornAt").GetDateTimeOffset();
        }

        using (var connection = new SqliteConnection($"Data Source={_path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "ALTER TABLE sockets DROP COLUMN netns;"; // as the file was before this column
            command.ExecuteNonQuery();
        }

        await using var second = new InsightApp(settings);
        await second.WaitForBatchesAsync(1, "the first poll after the restart");
        await second.Writer.FlushAsync(TestContext.Current.CancellationToken);
        var after = await second.GetJsonAsync($"/api/history?from=-10m&port={listener.Port}");

        Assert.Equal(born, Assert.Single(Opened(after)).GetProperty("bornAt").GetDateTimeOffset());
    }

    public async ValueTask DisposeAsync()
    {
        if (_namespace is not null)
        {
            await _namespace.DisposeAsync();
        }

        SqliteConnection.ClearAllPools();
        foreach (var file in new[] { _path, _path + "-wal", _path + "-shm" })
        {
            File.Delete(file);
        }
    }
}
