using System.Buffers;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using MessagePack;
using MessagePack.Resolvers;

namespace PortDashboard.Bench;

/// <summary>
/// A bare SignalR client over one WebSocket (no negotiation), JSON or MessagePack, that subscribes to the hub and counts
/// the bytes of each message it receives: the hub message plus its WebSocket frame header, as they come off the wire.
/// </summary>
internal sealed class HubClient : IAsyncDisposable
{
    private const byte RecordSeparator = 0x1e;

    private readonly ClientWebSocket _socket = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(long Bytes, int Changes)> _deltas = [];
    private readonly List<(DateTimeOffset ReceivedAt, double DelayMs)> _delays = [];
    private readonly TaskCompletionSource _firstSnapshot = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly bool _messagePack;
    private Task _receiving = Task.CompletedTask;
    private Task _pinging = Task.CompletedTask;
    private HttpMessageInvoker? _invoker;

    private HubClient(string name, bool messagePack)
    {
        Name = name;
        _messagePack = messagePack;
    }

    public string Name { get; }

    public long FirstMessageBytes { get; private set; }

    /// <summary>Deltas whose FromSequence was not the previous message's ToSequence + 1 (the wire promises none).</summary>
    public int Gaps { get; private set; }

    /// <summary>Snapshots after the first: the server found this client behind and started it afresh.</summary>
    public int Resyncs { get; private set; }

    /// <summary>Deltas received since the start (never reset).</summary>
    public long DeltasReceived { get; private set; }

    /// <summary>Whether the connection is still open (the receive loop has not ended).</summary>
    public bool Open => !_receiving.IsCompleted && _socket.State == WebSocketState.Open;

    /// <summary>Why the connection ended, when it did: the hub's Close message, the WebSocket close, or the error.</summary>
    public string? ClosedBecause { get; private set; }

    /// <summary>When the connection ended without this side closing it; null while open or closed by <see cref="DisposeAsync"/>.</summary>
    public DateTimeOffset? ClosedAt { get; private set; }

    /// <summary>
    /// What <see cref="ClosedBecause"/> means, from what the stalled-client bench showed (docs/benchmarks.md, "Stalled hub
    /// clients"): the server's only way of closing a subscribed hub connection here is its client timeout.
    /// </summary>
    public string? CloseKind => ClosedBecause switch
    {
        null => null,
        var r when r.Contains("ClientTimeoutInterval", StringComparison.Ordinal) =>
            "the server's client timeout: it had no message or ping from this client for 30 s (ClientTimeoutInterval), and its Close reached the client",
        var r when r.Contains("without completing the close handshake", StringComparison.Ordinal) =>
            "dropped by the server without a Close: its client timeout (no ping for 30 s) while its writes to this client were stuck behind full buffers, or the app went away",
        var r when r.StartsWith("the bench client failed", StringComparison.Ordinal) => "a bench bug: this client could not read a message",
        _ => "other",
    };

    /// <summary>Completes when the first <c>Snapshot</c> has arrived (the subscription is live).</summary>
    public Task FirstSnapshot => _firstSnapshot.Task;

    private long _nextSequence = -1;

    /// <param name="receiveBufferBytes">
    /// SO_RCVBUF of the client's socket, set before connecting (which turns the kernel's receive autotuning off for it);
    /// null keeps the kernel's default.
    /// </param>
    /// <param name="cancellationToken">Gives up connecting: the socket is aborted, so no connection is left behind.</param>
    public static async Task<HubClient> ConnectAsync(Uri hub, string name, bool messagePack, string? filter, int? receiveBufferBytes = null, CancellationToken cancellationToken = default)
    {
        var client = new HubClient(name, messagePack);
        try
        {
            await client.StartAsync(hub, filter, receiveBufferBytes, cancellationToken);
            return client;
        }
        catch
        {
            client._socket.Abort();
            await client.DisposeAsync();
            throw;
        }
    }

    private async Task StartAsync(Uri hub, string? filter, int? receiveBufferBytes, CancellationToken cancellationToken)
    {
        var client = this;
        var name = Name;
        var messagePack = _messagePack;
        if (receiveBufferBytes is int bytes)
        {
            var handler = new SocketsHttpHandler
            {
                ConnectCallback = async (context, cancellationToken) =>
                {
                    var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { ReceiveBufferSize = bytes };
                    try
                    {
                        await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                        return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                },
            };
            client._invoker = new HttpMessageInvoker(handler, disposeHandler: true); // kept: it owns the connection's handler
            await client._socket.ConnectAsync(hub, client._invoker, cancellationToken);
        }
        else
        {
            await client._socket.ConnectAsync(hub, cancellationToken);
        }

        var handshake = Encoding.UTF8.GetBytes($"{{\"protocol\":\"{(messagePack ? "messagepack" : "json")}\",\"version\":1}}\u001e");
        await client._socket.SendAsync(handshake, messagePack ? WebSocketMessageType.Binary : WebSocketMessageType.Text, true, cancellationToken);
        var answer = Encoding.UTF8.GetString(await client.ReceiveMessageAsync(cancellationToken));
        if (!answer.StartsWith("{}", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{name}: the hub refused the handshake: {answer.TrimEnd('\u001e')}");
        }

        await client.SendAsync(client.Invocation("Subscribe", filter));
        client._receiving = Task.Run(client.ReceiveLoopAsync, CancellationToken.None);
        client._pinging = Task.Run(client.PingLoopAsync, CancellationToken.None);
    }

    public void ResetCounts()
    {
        lock (_deltas)
        {
            _deltas.Clear();
        }
    }

    /// <summary>
    /// Delta delays received in [<paramref name="from"/>, <paramref name="to"/>), sorted: a delta's arrival here minus
    /// its <c>takenAt</c> (when the server took the snapshot; same machine, same clock). Recorded for JSON clients only.
    /// </summary>
    public List<double> DelaysBetween(DateTimeOffset from, DateTimeOffset to)
    {
        lock (_delays)
        {
            return [.. _delays.Where(d => d.ReceivedAt >= from && d.ReceivedAt < to).Select(d => d.DelayMs).Order()];
        }
    }

    public string Summary()
    {
        List<(long Bytes, int Changes)> deltas;
        lock (_deltas)
        {
            deltas = [.. _deltas];
        }

        if (deltas.Count == 0)
        {
            return $"| {Name} | {FirstMessageBytes:N0} | 0 | - | - | - | - | - |";
        }

        var bytes = deltas.Select(d => d.Bytes).Order().ToList();
        var changes = deltas.Select(d => d.Changes).Order().ToList();
        var totalChanges = changes.Sum();
        var perChange = totalChanges == 0 ? "-" : (deltas.Sum(d => d.Bytes) / (double)totalChanges).ToString("F0", CultureInfo.InvariantCulture);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"| {Name} | {FirstMessageBytes:N0} | {deltas.Count} | {bytes[bytes.Count / 2]:N0} | {bytes[(int)Math.Min(bytes.Count - 1, Math.Ceiling(bytes.Count * 0.95) - 1)]:N0} | {bytes[^1]:N0} | {changes[changes.Count / 2]} | {perChange} |");
    }

    /// <summary>Ends the connection at once, without the closing handshake (as a process that dies would).</summary>
    public void Abort() => _socket.Abort();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }
        catch (Exception e) when (e is WebSocketException or InvalidOperationException or ObjectDisposedException or OperationCanceledException)
        {
            // the server went first, or the connection was aborted
        }

        await Task.WhenAll(_receiving, _pinging).ContinueWith(_ => { }, TaskScheduler.Default);
        _socket.Dispose();
        _invoker?.Dispose();
        _stop.Dispose();
    }

    private byte[] Invocation(string target, string? argument)
    {
        if (!_messagePack)
        {
            var json = JsonSerializer.Serialize(new { type = 1, invocationId = "1", target, arguments = new[] { argument } });
            return Encoding.UTF8.GetBytes(json + "\u001e");
        }

        // [1 (invocation), {} headers, "1" invocation id, target, [argument], [] stream ids], behind its varint length.
        var body = MessagePackSerializer.Serialize<object[]>([1, new Dictionary<string, string>(), "1", target, new object?[] { argument }, Array.Empty<string>()], ContractlessStandardResolver.Options);
        return Framed(body);
    }

    private byte[] Ping() => _messagePack ? Framed(MessagePackSerializer.Serialize<object[]>([6])) : "{\"type\":6}\u001e"u8.ToArray();

    private static byte[] Framed(byte[] body)
    {
        var prefix = new List<byte>();
        var length = (uint)body.Length;
        do
        {
            var b = (byte)(length & 0x7f);
            length >>= 7;
            prefix.Add(length > 0 ? (byte)(b | 0x80) : b);
        }
        while (length > 0);
        return [.. prefix, .. body];
    }

    private Task SendAsync(byte[] message) =>
        _socket.SendAsync(message, _messagePack ? WebSocketMessageType.Binary : WebSocketMessageType.Text, true, _stop.Token);

    private async Task PingLoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(10), _stop.Token);
                await SendAsync(Ping());
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
        }
    }

    private async Task ReceiveLoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var message = await ReceiveMessageAsync(_stop.Token);
                if (message.Length == 0 && _socket.State != WebSocketState.Open)
                {
                    ClosedBecause ??= $"WebSocket closed: {_socket.CloseStatus} {_socket.CloseStatusDescription}";
                    return;
                }

                if (!_messagePack && message.AsSpan().StartsWith("{\"type\":7"u8))
                {
                    ClosedBecause = $"hub Close: {Encoding.UTF8.GetString(message).TrimEnd('\u001e')}";
                }

                foreach (var hubMessage in Split(message))
                {
                    Count(hubMessage, WebSocketHeaderShare(message.Length, hubMessage.Length));
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
            if (!_stop.IsCancellationRequested)
            {
                ClosedBecause ??= $"{e.GetType().Name}: {e.Message}";
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A message this client could not read (a bench bug, not the server's): say so rather than end silently.
            ClosedBecause ??= $"the bench client failed reading a message: {e.GetType().Name}: {e.Message}";
        }
        finally
        {
            if (!_stop.IsCancellationRequested)
            {
                ClosedAt = DateTimeOffset.UtcNow;
            }

            _firstSnapshot.TrySetException(new InvalidOperationException($"{Name}: the connection ended before the first Snapshot ({ClosedBecause ?? "stopped"})"));
        }
    }

    /// <summary>The frame header, counted with the hub message when the WebSocket message holds only it.</summary>
    private static int WebSocketHeaderShare(int webSocketMessage, int hubMessage) =>
        webSocketMessage == hubMessage ? WireSizes.WebSocketHeader(webSocketMessage) : 0;

    private void Count(ReadOnlyMemory<byte> message, int header)
    {
        var receivedAt = DateTimeOffset.UtcNow;
        var (target, changes, from, to, takenAt) = _messagePack ? ReadMessagePack(message) : ReadJson(message);
        if (target == "Snapshot")
        {
            if (_nextSequence >= 0)
            {
                Resyncs++;
            }

            FirstMessageBytes = message.Length + header;
            _nextSequence = to + 1;
            _firstSnapshot.TrySetResult();
        }
        else if (target == "Delta")
        {
            if (takenAt is { } taken)
            {
                lock (_delays)
                {
                    _delays.Add((receivedAt, (receivedAt - taken).TotalMilliseconds));
                }
            }

            if (_nextSequence >= 0 && from != _nextSequence)
            {
                Gaps++;
            }

            _nextSequence = to + 1;
            DeltasReceived++;
            lock (_deltas)
            {
                _deltas.Add((message.Length + header, changes));
            }
        }
    }

    private static (string? Target, int Changes, long From, long To, DateTimeOffset? TakenAt) ReadJson(ReadOnlyMemory<byte> message)
    {
        var span = message.Span;
        if (!span.StartsWith("{\"type\":1,"u8))
        {
            return (null, 0, 0, 0, null);
        }

        if (span.StartsWith("{\"type\":1,\"target\":\"Snapshot\""u8))
        {
            // {"type":1,"target":"Snapshot","arguments":[{"sequence":N,...: read N without parsing the whole table.
            var head = span[..Math.Min(span.Length, 200)];
            var at = head.IndexOf("\"sequence\":"u8);
            var sequence = 0L;
            for (var i = at < 0 ? head.Length : at + 11; i < head.Length && head[i] is >= (byte)'0' and <= (byte)'9'; i++)
            {
                sequence = (sequence * 10) + (head[i] - '0');
            }

            return ("Snapshot", 0, sequence, sequence, null);
        }

        using var document = JsonDocument.Parse(message[..^1]);
        var root = document.RootElement;
        var target = root.GetProperty("target").GetString();
        if (target != "Delta")
        {
            return (target, 0, 0, 0, null);
        }

        var delta = root.GetProperty("arguments")[0];
        return (target, delta.GetProperty("added").GetArrayLength() + delta.GetProperty("removed").GetArrayLength() + delta.GetProperty("changed").GetArrayLength(),
            delta.GetProperty("fromSequence").GetInt64(), delta.GetProperty("toSequence").GetInt64(), delta.GetProperty("takenAt").GetDateTimeOffset());
    }

    private static (string? Target, int Changes, long From, long To, DateTimeOffset? TakenAt) ReadMessagePack(ReadOnlyMemory<byte> framed)
    {
        var body = framed;
        var length = 0;
        var shift = 0;
        while (true)
        {
            var b = body.Span[0];
            body = body[1..];
            length |= (b & 0x7f) << shift;
            shift += 7;
            if ((b & 0x80) == 0)
            {
                break;
            }
        }

        var reader = new MessagePackReader(body[..length]);
        var count = reader.ReadArrayHeader();
        if (count < 5 || reader.ReadInt32() != 1)
        {
            return (null, 0, 0, 0, null);
        }

        reader.Skip(); // headers
        reader.Skip(); // invocation id (nil)
        var target = reader.ReadString();
        if (target == "Snapshot")
        {
            reader.ReadArrayHeader(); // arguments
            if (reader.NextMessagePackType == MessagePackType.Array)
            {
                reader.ReadArrayHeader(); // SnapshotMessage: [sequence, filter, ...]
                var sequence = reader.ReadInt64();
                return (target, 0, sequence, sequence, null);
            }

            return (target, 0, 0, 0, null);
        }

        if (target != "Delta")
        {
            return (target, 0, 0, 0, null);
        }

        reader.ReadArrayHeader();
        var delta = MessagePackSerializer.Deserialize<object>(ref reader, ContractlessStandardResolver.Options);
        static int Length(object? list) => list is object[] items ? items.Length : 0;
        return delta switch
        {
            object[] fields => (target, Length(fields[3]) + Length(fields[4]) + Length(fields[5]), Convert.ToInt64(fields[0], CultureInfo.InvariantCulture), Convert.ToInt64(fields[1], CultureInfo.InvariantCulture), null),
            IDictionary<object, object> map => (target, Length(map["added"]) + Length(map["removed"]) + Length(map["changed"]),
                Convert.ToInt64(map["fromSequence"], CultureInfo.InvariantCulture), Convert.ToInt64(map["toSequence"], CultureInfo.InvariantCulture), null),
            _ => (target, 0, 0, 0, null),
        };
    }

    /// <summary>The hub messages of one WebSocket message: JSON ends each with 0x1e, MessagePack prefixes each with its varint length.</summary>
    private IEnumerable<ReadOnlyMemory<byte>> Split(byte[] message)
    {
        var rest = new ReadOnlyMemory<byte>(message);
        while (!rest.IsEmpty)
        {
            int size;
            if (_messagePack)
            {
                var length = 0;
                var shift = 0;
                var prefix = 0;
                byte b;
                do
                {
                    b = rest.Span[prefix++];
                    length |= (b & 0x7f) << shift;
                    shift += 7;
                }
                while ((b & 0x80) != 0);
                size = prefix + length;
            }
            else
            {
                var end = rest.Span.IndexOf(RecordSeparator);
                size = end < 0 ? rest.Length : end + 1;
            }

            yield return rest[..size];
            rest = rest[size..];
        }
    }

    private async Task<byte[]> ReceiveMessageAsync(CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            using var message = new MemoryStream();
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer, cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return [];
                }

                message.Write(buffer, 0, result.Count);
                if (result.EndOfMessage)
                {
                    return message.ToArray();
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
