using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PortDashboard.Insight;
using PortDashboard.Insight.History;
using PortDashboard.Tests.Support;

namespace PortDashboard.Tests.Insight.Support;

/// <summary>The real app on a real Kestrel port with the insight services, and the handles the insight tests use.</summary>
public sealed class InsightApp : IAsyncDisposable
{
    public InsightApp(IReadOnlyDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        Factory = new PortDashboardFactory(settings, services);
        BaseAddress = Factory.Start();
        Client = new HttpClient { BaseAddress = BaseAddress };
    }

    public PortDashboardFactory Factory { get; }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public InsightState State => Factory.Services.GetRequiredService<InsightState>();

    internal InsightService Service => Factory.Services.GetRequiredService<InsightService>();

    internal HistoryWriter Writer => Factory.Services.GetRequiredService<HistoryWriter>();

    public T Get<T>()
        where T : notnull => Factory.Services.GetRequiredService<T>();

    /// <summary>Waits until the insight loop has applied <paramref name="count"/> more batches.</summary>
    public async Task WaitForBatchesAsync(int count, string what)
    {
        var target = Service.Batches + count;
        await Eventually.WaitUntil(() => Service.Batches >= target, what);
    }

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await Client.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        using var document = JsonDocument.Parse(body);
        return document.RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Factory.DisposeAsync();
    }

    /// <summary>A TCP listener on loopback (or every interface) on a port the kernel picks, with its accepted connections.</summary>
    public sealed class Listener : IDisposable
    {
        private readonly List<Socket> _accepted = [];

        public Listener(IPAddress? address = null, int port = 0)
        {
            Socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            Socket.Bind(new IPEndPoint(address ?? IPAddress.Loopback, port));
            Socket.Listen(2048);
        }

        public Socket Socket { get; }

        public int Port => ((IPEndPoint)Socket.LocalEndPoint!).Port;

        /// <summary>Connects a client and accepts it; both stay open until disposed.</summary>
        public async Task<Socket> ConnectAsync()
        {
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Port), TestContext.Current.CancellationToken);
            _accepted.Add(await Socket.AcceptAsync(TestContext.Current.CancellationToken));
            return client;
        }

        public void Dispose()
        {
            _accepted.ForEach(s => s.Dispose());
            Socket.Dispose();
        }
    }
}
