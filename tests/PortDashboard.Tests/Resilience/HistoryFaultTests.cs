using System.Collections.Immutable;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PortDashboard.Core.Reading;
using PortDashboard.Insight;
using PortDashboard.Insight.History;
using PortDashboard.Tests.Support;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Tests.Resilience;

/// <summary>
/// The history database failing under the running app, on real files: a full disk (a small tmpfs mounted for the
/// test), the file deleted or made immutable while open, a corrupt file at start. Each time the live view goes on,
/// <c>/api/history</c> and the History page say why, writes resume once they can, and nothing crashes.
/// </summary>
public sealed class HistoryFaultTests : IDisposable
{
    private const int SocketsPerTable = 2000;

    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"pd-faults-history-{Guid.NewGuid():N}");
    private readonly FakeSocketTableReader _reader = new();
    private bool _mounted;
    private int _generation;

    public HistoryFaultTests() => Directory.CreateDirectory(_folder);

    private string DatabasePath => Path.Combine(_folder, "history.db");

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        Run("chattr", "-i", DatabasePath);
        if (_mounted)
        {
            Run("umount", "-l", _folder);
        }

        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>A table of connections none of which was in the previous one: every poll is births and deaths to write.</summary>
    private void NextTable(int remotePort = 8080)
    {
        var generation = Interlocked.Increment(ref _generation);
        _reader.Sockets = [.. Enumerable.Range(0, SocketsPerTable).Select(i => TestSockets.Connection(20_000 + i, remotePort, inode: (generation * 100_000L) + i + 1))];
    }

    /// <summary>Shows a table to a remote port no earlier table used and waits until its births are in the history.</summary>
    private async Task<JsonElement> AssertNewBirthsAreWrittenAsync(HttpClient client, HistoryWriter writer, string what)
    {
        NextTable(remotePort: 9090);
        var history = default(JsonElement);
        await Eventually.WaitUntil(async () =>
        {
            await writer.FlushAsync(Cancellation);
            (var status, history) = await GetAsync(client, "/api/history?from=-1h&limit=10&port=9090");
            return status == HttpStatusCode.OK && Births(history) > 0;
        }, what);
        return history;
    }

    private PortDashboardFactory StartApp()
    {
        NextTable();
        return new PortDashboardFactory(
            new Dictionary<string, string?> { ["PortDashboard:History:Path"] = DatabasePath },
            services => services.AddSingleton<ISocketTableReader>(_reader));
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative), Cancellation);
        var text = await response.Content.ReadAsStringAsync(Cancellation);
        using var document = JsonDocument.Parse(text);
        return (response.StatusCode, document.RootElement.Clone());
    }

    /// <summary>The live view: the snapshot API answers with the table the reader gives now.</summary>
    private async Task AssertLiveViewGoesOnAsync(HttpClient client)
    {
        var generation = Volatile.Read(ref _generation);
        await Eventually.WaitUntil(async () =>
        {
            var (status, body) = await GetAsync(client, "/api/snapshot?port=8080");
            return status == HttpStatusCode.OK && body.GetProperty("sockets").GetArrayLength() == SocketsPerTable
                && Volatile.Read(ref _generation) == generation;
        }, "the live view to show the current table");
    }

    private static int Births(JsonElement history) =>
        history.GetProperty("events").EnumerateArray().Count(e => e.GetProperty("event").GetString() is "opened" or "short-lived");

    [Fact]
    public async Task A_full_disk_drops_the_batches_says_why_and_writing_resumes_once_there_is_room()
    {
        Directory.CreateDirectory(_folder);
        if (!Run("mount", "-t", "tmpfs", "-o", "size=2m", "pd-faults-history", _folder))
        {
            Assert.Skip("mounting a tmpfs needs root (CI runs as root)");
        }

        _mounted = true;
        await using var app = StartApp();
        using var client = new HttpClient { BaseAddress = app.Start() };
        var writer = app.Services.GetRequiredService<HistoryWriter>();
        var state = app.Services.GetRequiredService<InsightState>();
        await Eventually.WaitUntil(() => writer.Written > 0, "the first history writes");

        // Fill the disk to its last byte.
        var filler = Path.Combine(_folder, "filler");
        FillDisk(filler);
        await Eventually.WaitUntil(() => { NextTable(); return state.WriteHealth.Error is not null; }, "a history write to fail on the full disk", TimeSpan.FromSeconds(60));

        await AssertLiveViewGoesOnAsync(client);
        var (status, history) = await GetAsync(client, "/api/history?from=-1h&limit=1");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("full", history.GetProperty("writeError").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.True(history.GetProperty("dropped").GetInt64() > 0);
        var page = await client.GetStringAsync(new Uri("/history", UriKind.Relative), Cancellation);
        Assert.Contains("history-write-error", page, StringComparison.Ordinal);

        // Room again: the next batches are written, the error goes, what was dropped stays counted.
        File.Delete(filler);
        var dropped = state.WriteHealth.Dropped;
        await Eventually.WaitUntil(() => { NextTable(); return state.WriteHealth.Error is null; }, "history writes to work again", TimeSpan.FromSeconds(60));
        history = await AssertNewBirthsAreWrittenAsync(client, writer, "the births of a table after the disk had room again to be in the history");
        Assert.Equal(JsonValueKind.Null, history.GetProperty("writeError").ValueKind);
        Assert.True(state.WriteHealth.Dropped >= dropped);
    }

    [Fact]
    public async Task A_file_deleted_while_running_is_created_anew_and_the_births_after_it_are_kept()
    {
        await using var app = StartApp();
        using var client = new HttpClient { BaseAddress = app.Start() };
        var writer = app.Services.GetRequiredService<HistoryWriter>();
        var state = app.Services.GetRequiredService<InsightState>();
        await Eventually.WaitUntil(() => writer.Written > 0, "the first history writes");

        foreach (var file in new[] { DatabasePath, DatabasePath + "-wal", DatabasePath + "-shm" })
        {
            File.Delete(file);
        }

        // Until the writer notices, a read says why instead of creating an empty file.
        var (status, body) = await GetAsync(client, "/api/history?from=-1h&limit=1");
        Assert.True(status is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{(int)status} {body}");

        await Eventually.WaitUntil(() => { NextTable(); return state.WriteHealth.Reopened == 1 && File.Exists(DatabasePath); }, "the writer to create the file anew");
        await AssertLiveViewGoesOnAsync(client);
        body = await AssertNewBirthsAreWrittenAsync(client, writer, "the births after the new file to be in it");
        Assert.Equal(JsonValueKind.Null, body.GetProperty("writeError").ValueKind);
    }

    [Fact]
    public async Task A_file_made_immutable_while_running_keeps_the_live_view_and_history_answers()
    {
        await using var app = StartApp();
        using var client = new HttpClient { BaseAddress = app.Start() };
        var writer = app.Services.GetRequiredService<HistoryWriter>();
        await Eventually.WaitUntil(() => writer.Written > 0, "the first history writes");
        if (!Run("chattr", "+i", DatabasePath))
        {
            Assert.Skip("chattr +i needs root and a file system with inode flags");
        }

        // The writer's open handle still writes (the kernel checks at open); new readers open the file read-only.
        var written = writer.Written;
        await Eventually.WaitUntil(() => { NextTable(); return writer.Written > written + 2; }, "writes to go on through the open handle");
        await AssertLiveViewGoesOnAsync(client);
        var (status, body) = await GetAsync(client, "/api/history?from=-1h&limit=10&port=8080");
        Assert.True(status == HttpStatusCode.OK || (status == HttpStatusCode.ServiceUnavailable && body.GetProperty("detail").GetString()!.Contains(DatabasePath, StringComparison.Ordinal)), $"{(int)status} {body}");

        Assert.True(Run("chattr", "-i", DatabasePath));
        await AssertNewBirthsAreWrittenAsync(client, writer, "the births after the file was writable again to be in it");
    }

    [Fact]
    public async Task A_corrupt_file_at_start_leaves_history_off_with_the_reason_and_the_file_untouched()
    {
        var garbage = new byte[64 * 1024];
        new Random(13).NextBytes(garbage);
        await File.WriteAllBytesAsync(DatabasePath, garbage, Cancellation);

        await using var app = StartApp();
        using var client = new HttpClient { BaseAddress = app.Start() };
        var state = app.Services.GetRequiredService<InsightState>();
        await Eventually.WaitUntil(() => state.History.Error is not null, "history to give up on the corrupt file");

        await AssertLiveViewGoesOnAsync(client);
        var (status, body) = await GetAsync(client, "/api/history?from=-1h");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("not a database", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var page = await client.GetStringAsync(new Uri("/history", UriKind.Relative), Cancellation);
        Assert.Contains("could not be opened", page, StringComparison.Ordinal);
        Assert.Equal(garbage, await File.ReadAllBytesAsync(DatabasePath, Cancellation)); // the user's file is not lost
    }

    private static void FillDisk(string path)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None);
        var chunk = new byte[4096];
        try
        {
            while (true)
            {
                file.Write(chunk);
            }
        }
        catch (IOException)
        {
            // no space left on the device: full
        }
    }

    private static bool Run(string command, params string[] arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(command, arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
