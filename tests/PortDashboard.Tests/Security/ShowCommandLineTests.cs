using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using PortDashboard.Api;
using PortDashboard.Hubs;
using PortDashboard.Monitoring;
using PortDashboard.Tests.Support;

namespace PortDashboard.Tests.Security;

/// <summary>
/// Command lines can carry secrets: by default neither the API, the hub nor the feed the pages read carry them (the
/// snapshotter does not even read them); with <c>PortDashboard:ShowCommandLine=true</c> they do. Tested with a real
/// process holding a real connection, with a secret on its command line.
/// </summary>
public sealed class ShowCommandLineTests : IAsyncLifetime
{
    private const string Secret = "--password=hunter2-not-for-display";

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private Process? _holder;
    private TcpClient? _accepted;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public async ValueTask InitializeAsync()
    {
        _listener.Start();

        // bash connects to the listener on descriptor 3 and waits; its command line ends with the secret.
        var start = new ProcessStartInfo("bash") { UseShellExecute = false };
        foreach (var arg in (string[])["-c", $"exec 3<>/dev/tcp/127.0.0.1/{Port}; read -t 120 <&3", Secret])
        {
            start.ArgumentList.Add(arg);
        }

        _holder = Process.Start(start)!;
        _accepted = await Eventually.Within(_listener.AcceptTcpClientAsync(Cancellation).AsTask(), "bash's connection");
    }

    public ValueTask DisposeAsync()
    {
        _holder?.Kill();
        _holder?.WaitForExit();
        _holder?.Dispose();
        _accepted?.Dispose();
        _listener.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>The owners of the connection bash holds, as the API serves them, once they are attributed.</summary>
    private async Task<(string Json, JsonElement Owners)> BashConnection(HttpClient client)
    {
        string json = "";
        JsonElement owners = default;
        await Eventually.WaitUntil(async () =>
        {
            json = await client.GetStringAsync(new Uri($"/api/snapshot?port={Port}&state=established&process=bash", UriKind.Relative), Cancellation);
            var sockets = JsonDocument.Parse(json).RootElement.GetProperty("sockets");
            owners = sockets.GetArrayLength() == 1 ? sockets[0].GetProperty("owners").Clone() : default;
            return owners.ValueKind == JsonValueKind.Array;
        }, "bash's end of the connection, attributed to bash");
        return (json, owners);
    }

    [Fact]
    public async Task By_default_no_surface_carries_the_command_line()
    {
        await using var factory = new PortDashboardFactory();
        using var client = new HttpClient { BaseAddress = factory.Start() };

        var (json, owners) = await BashConnection(client);

        Assert.Equal("bash", Assert.Single(owners.EnumerateArray()).GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, owners[0].GetProperty("commandLine").ValueKind);
        Assert.DoesNotContain("hunter2", json, StringComparison.Ordinal);
        var csv = await client.GetStringAsync(new Uri($"/api/snapshot.csv?port={Port}", UriKind.Relative), Cancellation);
        Assert.DoesNotContain("hunter2", csv, StringComparison.Ordinal);

        // The pages render what the feed holds: the snapshotter never read the command lines.
        var feed = factory.Services.GetRequiredService<ISnapshotFeed>();
        Assert.All(feed.Current.Sockets.SelectMany(s => s.Owners), owner => Assert.Null(owner.CommandLine));

        await using var hub = new HubConnectionBuilder().WithUrl(new Uri(client.BaseAddress!, SocketsHub.Path)).Build();
        var snapshot = new TaskCompletionSource<SnapshotMessage>();
        hub.On<SnapshotMessage>(SocketsHub.SnapshotMethod, m => snapshot.TrySetResult(m));
        await hub.StartAsync(Cancellation);
        await hub.InvokeAsync<string>("Subscribe", $"port={Port}&process=bash", Cancellation);
        var message = await Eventually.Within(snapshot.Task, "the hub's Snapshot");
        Assert.All(message.Sockets.SelectMany(s => s.Owners), owner => Assert.Null(owner.CommandLine));
    }

    [Fact]
    public async Task With_ShowCommandLine_the_api_carries_the_full_command_line()
    {
        await using var factory = new PortDashboardFactory(new Dictionary<string, string?> { ["PortDashboard:ShowCommandLine"] = "true" });
        using var client = new HttpClient { BaseAddress = factory.Start() };

        var (_, owners) = await BashConnection(client);

        var commandLine = Assert.Single(owners.EnumerateArray()).GetProperty("commandLine").GetString();
        Assert.NotNull(commandLine);
        Assert.EndsWith(Secret, commandLine, StringComparison.Ordinal);
    }
}
