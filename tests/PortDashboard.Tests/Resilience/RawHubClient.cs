using System.Net.WebSockets;
using System.Text;

namespace PortDashboard.Tests.Resilience;

/// <summary>
/// A hub client speaking SignalR's JSON protocol over a bare WebSocket, so a test decides when it reads: unlike the
/// SignalR client, which keeps reading into an unbounded queue whatever its handlers do, this one can really stop,
/// leaving the server's messages in the kernel's buffers. It keeps sending a ping every few seconds whether it reads
/// or not, as a live client does (without them the hub drops it after its 30 s client timeout, which a slow test on a
/// loaded machine reaches).
/// </summary>
public sealed class RawHubClient : IAsyncDisposable
{
    private const char RecordSeparator = '\u001e';

    private readonly ClientWebSocket _socket = new();
    private readonly StringBuilder _pending = new();
    private static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(5);

    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private Task _keepAlive = Task.CompletedTask;

    public static async Task<RawHubClient> ConnectAsync(Uri hubUrl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hubUrl);
        var client = new RawHubClient();
        var ws = new UriBuilder(hubUrl) { Scheme = hubUrl.Scheme == "https" ? "wss" : "ws" }.Uri;
        await client._socket.ConnectAsync(ws, cancellationToken);
        await client.SendAsync("{\"protocol\":\"json\",\"version\":1}", cancellationToken);
        var handshake = await client.ReadMessageAsync(cancellationToken);
        if (handshake != "{}")
        {
            throw new InvalidOperationException("the hub refused the handshake: " + handshake);
        }

        client._keepAlive = client.KeepAliveAsync();
        return client;
    }

    /// <summary>Invokes a hub method without waiting for its completion (SignalR's "send").</summary>
    public Task InvokeAsync(string target, string argumentsJson, CancellationToken cancellationToken) =>
        SendAsync($"{{\"type\":1,\"target\":\"{target}\",\"arguments\":{argumentsJson}}}", cancellationToken);

    public Task PingAsync(CancellationToken cancellationToken) => SendAsync("{\"type\":6}", cancellationToken);

    /// <summary>Reads the next message (one JSON record), or null when the server closed the connection.</summary>
    public async Task<string?> ReadMessageAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var text = _pending.ToString();
            var end = text.IndexOf(RecordSeparator, StringComparison.Ordinal);
            if (end >= 0)
            {
                _pending.Remove(0, end + 1);
                return text[..end];
            }

            var result = await _socket.ReceiveAsync(_buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            _pending.Append(Encoding.UTF8.GetString(_buffer, 0, result.Count));
        }
    }

    /// <summary>Drops the connection without a closing handshake, as a client that crashed or lost its network.</summary>
    public void Abort()
    {
        _stopping.Cancel();
        _socket.Abort();
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _keepAlive;
        if (_socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                // the server went first
            }
        }

        _socket.Dispose();
        _sending.Dispose();
        _stopping.Dispose();
    }

    private async Task KeepAliveAsync()
    {
        using var timer = new PeriodicTimer(KeepAliveInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                await PingAsync(_stopping.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
            // stopped, or the connection is gone: the test sees that on its own reads and sends
        }
    }

    /// <summary>One message at a time on the socket (a WebSocket allows one send in flight), the test's and the keep-alive's.</summary>
    private async Task SendAsync(string json, CancellationToken cancellationToken)
    {
        await _sending.WaitAsync(cancellationToken);
        try
        {
            await _socket.SendAsync(Encoding.UTF8.GetBytes(json + RecordSeparator), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        }
        finally
        {
            _sending.Release();
        }
    }
}
