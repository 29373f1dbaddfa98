using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using PortDashboard.Api;
using PortDashboard.Hubs;
using PortDashboard.Testing;
using PortDashboard.Tests.Support;

namespace PortDashboard.Tests.Api;

/// <summary>
/// The app with <c>PortDashboard:Namespaces:Enabled</c> on a real namespace (<c>ip netns add pd-netns-api-PID</c>; root):
/// its sockets in the API with <c>netns=</c>, as <c>ip netns exec NS ss -tunaH</c> lists them; the CSV's namespace
/// columns; the hub's snapshot through the same filter; and the same app without the setting sees none of them.
/// </summary>
public sealed class NamespaceApiTests : IAsyncLifetime
{
    private NetworkNamespace _namespace = default!;
    private PortDashboardFactory _app = default!;
    private HttpClient _client = default!;
    private Uri _base = default!;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() && Environment.UserName == "root", "network namespaces need Linux and root (ip netns add, setns)");
        _namespace = await NetworkNamespace.CreateAsync("pd-netns", "api");
        _namespace.Listen(IPAddress.Loopback, 80, connections: 1);
        _namespace.BindUdp(5353);
        _app = new PortDashboardFactory(new Dictionary<string, string?> { ["PortDashboard:Namespaces:Enabled"] = "true" });
        _base = _app.Start();
        _client = new HttpClient { BaseAddress = _base };
    }

    private async Task<JsonElement> Json(string path)
    {
        using var response = await _client.GetAsync(new Uri(path, UriKind.Relative), Cancellation);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation)).RootElement.Clone();
    }

    private static string Text(JsonElement endpoint) => $"{endpoint.GetProperty("address").GetString()}:{endpoint.GetProperty("port").GetInt32()}";

    [Fact]
    public async Task The_namespaces_sockets_are_in_the_api_csv_and_hub_tagged_and_as_ss_lists_them()
    {
        var expected = (await _namespace.SocketTableAsync()).Select(r => $"{r.Protocol} {r.Local} {r.Remote}").Order(StringComparer.Ordinal).ToList();
        JsonElement sockets = default;
        await Eventually.WaitUntil(async () =>
        {
            sockets = (await Json($"/api/snapshot?netns={_namespace.Name}")).GetProperty("sockets");
            return sockets.GetArrayLength() == expected.Count;
        }, $"the {expected.Count} sockets of {_namespace.Name}", TimeSpan.FromSeconds(60)); // it reads every namespace of the machine: slow on a loaded shared one

        Assert.Equal(expected, sockets.EnumerateArray()
            .Select(s => $"{s.GetProperty("protocol").GetString()} {Text(s.GetProperty("local"))} {Text(s.GetProperty("remote"))}")
            .Order(StringComparer.Ordinal));
        var inode = sockets[0].GetProperty("netns").GetProperty("inode").GetInt64();
        Assert.All(sockets.EnumerateArray(), s =>
        {
            Assert.Equal(_namespace.Name, s.GetProperty("netns").GetProperty("name").GetString());
            Assert.EndsWith($"@{inode}", s.GetProperty("id").GetString(), StringComparison.Ordinal);
        });
        // The inode names the namespace too, and the host's own listeners are not in it.
        Assert.Equal(expected.Count, (await Json($"/api/snapshot?netns={inode}")).GetProperty("sockets").GetArrayLength());
        var hostSockets = (await Json("/api/snapshot?netns=host")).GetProperty("sockets");
        Assert.All(hostSockets.EnumerateArray(), s => Assert.Equal("host", s.GetProperty("netns").GetProperty("name").GetString()));

        var csv = await _client.GetStringAsync(new Uri($"/api/snapshot.csv?netns={_namespace.Name}&proto=udp", UriKind.Relative), Cancellation);
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["netns", "netns_inode", "container"], lines[0].Split(',')[^3..]);
        var row = Assert.Single(lines[1..]).Split(',');
        Assert.Equal([_namespace.Name, inode.ToString(System.Globalization.CultureInfo.InvariantCulture)], row[^3..^1]);

        await using var hub = new HubConnectionBuilder().WithUrl(new Uri(_base, SocketsHub.Path)).Build();
        var snapshot = new TaskCompletionSource<SnapshotMessage>();
        hub.On<SnapshotMessage>(SocketsHub.SnapshotMethod, m => snapshot.TrySetResult(m));
        await hub.StartAsync(Cancellation);
        var canonical = await hub.InvokeAsync<string>("Subscribe", $"netns={_namespace.Name.ToUpperInvariant()}&proto=tcp", Cancellation);
        Assert.Equal($"proto=tcp&netns={_namespace.Name}", canonical);
        var message = await Eventually.Within(snapshot.Task, "the hub's snapshot");
        Assert.Equal(expected.Count(e => e.StartsWith("tcp", StringComparison.Ordinal)), message.Sockets.Count);
        Assert.All(message.Sockets, s => Assert.Equal((inode, _namespace.Name), (s.Netns!.Inode!.Value, s.Netns.Name)));
    }

    [Fact]
    public async Task Without_the_setting_the_app_reads_only_its_own_namespace()
    {
        await using var plain = new PortDashboardFactory();
        using var client = new HttpClient { BaseAddress = plain.Start() };
        await Eventually.WaitUntil(async () =>
        {
            var json = JsonDocument.Parse(await client.GetStringAsync(new Uri("/api/snapshot", UriKind.Relative), Cancellation)).RootElement;
            return json.GetProperty("total").GetInt32() > 0;
        }, "a first snapshot");

        var all = JsonDocument.Parse(await client.GetStringAsync(new Uri("/api/snapshot", UriKind.Relative), Cancellation)).RootElement.GetProperty("sockets");
        Assert.All(all.EnumerateArray(), s => Assert.Equal(("host", JsonValueKind.Null), (s.GetProperty("netns").GetProperty("name").GetString(), s.GetProperty("netns").GetProperty("inode").ValueKind)));
        Assert.Equal(0, JsonDocument.Parse(await client.GetStringAsync(new Uri($"/api/snapshot?netns={_namespace.Name}", UriKind.Relative), Cancellation)).RootElement.GetProperty("sockets").GetArrayLength());
    }

    public async ValueTask DisposeAsync()
    {
        _client?.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        if (_namespace is not null)
        {
            await _namespace.DisposeAsync();
        }
    }
}
