using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using PortDashboard.Api;
using PortDashboard.Core.Filtering;
using PortDashboard.Hubs;
using PortDashboard.Tests.Support;

namespace PortDashboard.Tests.Hubs;

/// <summary>The hub of the real app on a real Kestrel port, through the SignalR client, with real sockets.</summary>
public sealed class SocketsHubTests(WebHostFixture host) : IClassFixture<WebHostFixture>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private sealed class Client : IAsyncDisposable
    {
        private readonly Channel<object> _messages = Channel.CreateUnbounded<object>();
        private long _lastSequence = -1;

        public Client(Uri baseAddress)
        {
            Connection = new HubConnectionBuilder().WithUrl(new Uri(baseAddress, SocketsHub.Path)).Build();
            Connection.On<SnapshotMessage>(SocketsHub.SnapshotMethod, m => _messages.Writer.TryWrite(m));
            Connection.On<DeltaMessage>(SocketsHub.DeltaMethod, m => _messages.Writer.TryWrite(m));
        }

        public HubConnection Connection { get; }

        public ValueTask DisposeAsync() => Connection.DisposeAsync();

        public Task<object> Next(string what) => Eventually.Within(_messages.Reader.ReadAsync(Cancellation).AsTask(), what);

        public async Task<SnapshotMessage> NextSnapshot()
        {
            var snapshot = Assert.IsType<SnapshotMessage>(await Next("a Snapshot message"));
            _lastSequence = snapshot.Sequence;
            return snapshot;
        }

        /// <summary>The next Delta, checked to follow the previous message without a gap.</summary>
        public async Task<DeltaMessage> NextDelta()
        {
            var delta = Assert.IsType<DeltaMessage>(await Next("a Delta message"));
            Assert.Equal(_lastSequence + 1, delta.FromSequence);
            Assert.True(delta.ToSequence >= delta.FromSequence);
            _lastSequence = delta.ToSequence;
            return delta;
        }

        /// <summary>Reads deltas until one reaches <paramref name="sequence"/>; returns them all.</summary>
        public async Task<List<DeltaMessage>> DeltasThrough(long sequence)
        {
            var deltas = new List<DeltaMessage>();
            while (_lastSequence < sequence)
            {
                deltas.Add(await NextDelta());
            }

            return deltas;
        }
    }

    [Fact]
    public async Task A_subscriber_receives_exactly_the_matching_socket_in_a_delta_and_its_removal()
    {
        using var matching = new BoundSocket();
        using var other = new BoundSocket();
        await using var client = new Client(host.BaseAddress);
        await client.Connection.StartAsync(Cancellation);

        var filter = await client.Connection.InvokeAsync<string>("Subscribe", $"port={matching.Port}&state=listen", Cancellation);
        Assert.Equal($"state=listen&port={matching.Port}", filter);
        var snapshot = await client.NextSnapshot();
        Assert.Empty(snapshot.Sockets);
        Assert.Equal(filter, snapshot.Filter);
        Assert.False(string.IsNullOrEmpty(snapshot.Metadata.HostName));

        matching.Listen();
        other.Listen();
        // Read the deltas up to the poll that shows the server both listeners: only the matching one may be in them.
        var seenAt = Math.Max(
            await SequenceShowing(matching.Port),
            await SequenceShowing(other.Port));
        var deltas = await client.DeltasThrough(seenAt);

        var added = Assert.Single(deltas.SelectMany(d => d.Added));
        Assert.Equal(matching.Port, added.Local.Port);
        Assert.Equal("listen", added.State);
        Assert.Contains(added.Owners, o => o.Pid == Environment.ProcessId);
        Assert.Empty(deltas.SelectMany(d => d.Removed));
        Assert.Empty(deltas.SelectMany(d => d.Changed));

        matching.Dispose();
        var removedIn = await NextDeltaWith(client, d => d.Removed.Count > 0);
        Assert.Equal([added.Id], removedIn.Removed);
        Assert.Empty(removedIn.Added);
    }

    [Fact]
    public async Task A_bad_filter_fails_the_call_with_the_filter_message()
    {
        await using var client = new Client(host.BaseAddress);
        await client.Connection.StartAsync(Cancellation);
        var expected = Assert.Throws<FilterException>(() => Filter.Parse("range=bogus&proto=tcp"));

        var error = await Assert.ThrowsAsync<HubException>(
            () => client.Connection.InvokeAsync<string>("Subscribe", "range=bogus&proto=tcp", Cancellation));

        // The server throws HubException(filter message); the client prefixes it with the method that failed.
        Assert.EndsWith("HubException: " + expected.Message, error.Message, StringComparison.Ordinal);
        Assert.Equal(0, host.GetService<HubSubscriptions>().Count);
    }

    [Fact]
    public async Task Unsubscribe_and_disconnect_end_the_connection_subscription()
    {
        var subscriptions = host.GetService<HubSubscriptions>();
        await using var client = new Client(host.BaseAddress);
        await client.Connection.StartAsync(Cancellation);

        await client.Connection.InvokeAsync<string>("Subscribe", "state=listen", Cancellation);
        var snapshot = await client.NextSnapshot();
        Assert.All(snapshot.Sockets, s => Assert.Equal("listen", s.State));
        Assert.Equal(1, subscriptions.Count);

        await client.Connection.InvokeAsync("Unsubscribe", Cancellation);
        Assert.Equal(0, subscriptions.Count);

        // A new subscription runs until the connection closes; the server then ends it.
        await client.Connection.InvokeAsync<string>("Subscribe", null, Cancellation);
        await Eventually.WaitUntil(() => subscriptions.Count == 1, "the second subscription runs");
        await client.Connection.StopAsync(Cancellation);
        await Eventually.WaitUntil(() => subscriptions.Count == 0, "the server ends the subscription of a closed connection");
    }

    private async Task<long> SequenceShowing(int listeningPort) =>
        (await host.WaitForSockets($"port={listeningPort}&state=listen", $"the server sees the listener on port {listeningPort}"))
            .GetProperty("sequence").GetInt64();

    private static async Task<DeltaMessage> NextDeltaWith(Client client, Func<DeltaMessage, bool> wanted)
    {
        var deadline = DateTime.UtcNow + Eventually.DefaultTimeout;
        while (DateTime.UtcNow < deadline)
        {
            var delta = await client.NextDelta();
            if (wanted(delta))
            {
                return delta;
            }
        }

        throw new TimeoutException("Timed out waiting for the delta that removes the closed listener.");
    }
}
