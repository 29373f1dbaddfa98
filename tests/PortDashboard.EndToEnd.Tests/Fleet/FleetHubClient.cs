using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using PortDashboard.Api;
using PortDashboard.Hubs;

namespace PortDashboard.EndToEnd.Tests.Fleet;

/// <summary>
/// A hub client of one dashboard node's fleet subscription (JSON or MessagePack): it keeps each host's table from its
/// FleetSnapshot and FleetDeltas, checks every delta follows the previous message of its host (no gap), and records them.
/// </summary>
public sealed class FleetHubClient : IAsyncDisposable
{
    private readonly Channel<object> _messages = Channel.CreateUnbounded<object>();
    private readonly Dictionary<string, long> _sequence = new(StringComparer.Ordinal);

    public FleetHubClient(Uri baseAddress, bool messagePack)
    {
        var builder = new HubConnectionBuilder().WithUrl(new Uri(baseAddress, SocketsHub.Path));
        if (messagePack)
        {
            builder.AddMessagePackProtocol();
        }

        Connection = builder.Build();
        Connection.On<FleetHostSnapshotMessage>(SocketsHub.FleetSnapshotMethod, m => _messages.Writer.TryWrite(m));
        Connection.On<FleetHostDeltaMessage>(SocketsHub.FleetDeltaMethod, m => _messages.Writer.TryWrite(m));
        Connection.On<FleetHostStatusMessage>(SocketsHub.FleetStatusMethod, m => _messages.Writer.TryWrite(m));
    }

    public HubConnection Connection { get; }

    /// <summary>Each host's table as this client has it, by socket id.</summary>
    public Dictionary<string, Dictionary<string, SocketDto>> Tables { get; } = new(StringComparer.Ordinal);

    /// <summary>Every delta received, in order, per host.</summary>
    public Dictionary<string, List<DeltaMessage>> Deltas { get; } = new(StringComparer.Ordinal);

    /// <summary>The sequence of each host's first FleetSnapshot.</summary>
    public Dictionary<string, long> Started { get; } = new(StringComparer.Ordinal);

    public int Resyncs { get; private set; }

    public async Task<string> SubscribeAsync(string filter, CancellationToken cancellationToken)
    {
        await Connection.StartAsync(cancellationToken);
        return await Connection.InvokeAsync<string>(nameof(SocketsHub.SubscribeFleet), filter, cancellationToken);
    }

    /// <summary>Applies messages as they come until <paramref name="condition"/> holds; fails at the deadline.</summary>
    public async Task UntilAsync(string what, Func<FleetHubClient, bool> condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            while (!condition(this))
            {
                Apply(await _messages.Reader.ReadAsync(deadline.Token));
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"not within {timeout.TotalSeconds:F0} s: {what}");
        }
    }

    public ValueTask DisposeAsync() => Connection.DisposeAsync();

    private void Apply(object message)
    {
        switch (message)
        {
            case FleetHostSnapshotMessage snapshot:
                if (snapshot.Resync)
                {
                    Resyncs++;
                }

                Started.TryAdd(snapshot.Host, snapshot.Snapshot.Sequence);
                _sequence[snapshot.Host] = snapshot.Snapshot.Sequence;
                Tables[snapshot.Host] = snapshot.Snapshot.Sockets.ToDictionary(s => s.Id, StringComparer.Ordinal);
                break;
            case FleetHostDeltaMessage { Delta: var delta } change:
                Assert.True(_sequence.TryGetValue(change.Host, out var last), $"a FleetDelta of {change.Host} before its FleetSnapshot");
                Assert.True(delta.FromSequence == last + 1, $"{change.Host}: a delta from {delta.FromSequence} after {last} (a gap)");
                Assert.True(delta.ToSequence >= delta.FromSequence);
                _sequence[change.Host] = delta.ToSequence;
                var table = Tables[change.Host];
                foreach (var id in delta.Removed)
                {
                    Assert.True(table.Remove(id), $"{change.Host}: removed {id}, which it never had");
                }

                foreach (var socket in delta.Added.Concat(delta.Changed))
                {
                    table[socket.Id] = socket;
                }

                if (!Deltas.TryGetValue(change.Host, out var deltas))
                {
                    Deltas[change.Host] = deltas = [];
                }

                deltas.Add(delta);
                break;
        }
    }
}
