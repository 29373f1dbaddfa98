using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace PortDashboard.Tests.Support;

/// <summary>One running app (real reader, real Kestrel port) shared by a test class.</summary>
public sealed class WebHostFixture : IAsyncLifetime
{
    public PortDashboardFactory Factory { get; } = new();

    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public T GetService<T>()
        where T : notnull => Factory.Services.GetRequiredService<T>();

    public ValueTask InitializeAsync()
    {
        BaseAddress = Factory.Start();
        Client = new HttpClient { BaseAddress = BaseAddress };
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Factory.DisposeAsync();
    }

    /// <summary>GET <paramref name="path"/> as JSON.</summary>
    public async Task<JsonElement> GetJson(string path)
    {
        using var response = await Client.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken);
        using var document = await JsonDocument.ParseAsync(body, cancellationToken: TestContext.Current.CancellationToken);
        return document.RootElement.Clone();
    }

    /// <summary>Waits until the app's snapshot shows the sockets <paramref name="query"/> selects; returns that response.</summary>
    public async Task<JsonElement> WaitForSockets(string query, string what)
    {
        JsonElement json = default;
        await Eventually.WaitUntil(async () =>
        {
            json = await GetJson("/api/snapshot?" + query);
            return json.GetProperty("sockets").GetArrayLength() > 0;
        }, what);
        return json;
    }
}

/// <summary>A TCP socket bound to a free loopback port, not yet listening (so not yet in the socket table).</summary>
public sealed class BoundSocket : IDisposable
{
    public BoundSocket()
    {
        Socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Socket.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
    }

    public Socket Socket { get; }

    public int Port => ((System.Net.IPEndPoint)Socket.LocalEndPoint!).Port;

    public void Listen() => Socket.Listen();

    public void Dispose() => Socket.Dispose();
}
