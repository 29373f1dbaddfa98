using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR.Client;
using PortDashboard.Api;
using PortDashboard.Hubs;

namespace PortDashboard.Tests.Resilience;

/// <summary>
/// Follows a hub client's messages: the sequence it is at, and every gap (a delta that does not follow the previous
/// message, or a second Snapshot, which means the client was resynced).
/// </summary>
public sealed class DeltaSequence
{
    private long _sequence = -1;

    public DeltaSequence(HubConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        connection.On<SnapshotMessage>(SocketsHub.SnapshotMethod, m =>
        {
            if (Sequence >= 0)
            {
                Gaps.Enqueue($"a second Snapshot at {m.Sequence}: the client was resynced");
            }

            Volatile.Write(ref _sequence, m.Sequence);
        });
        connection.On<DeltaMessage>(SocketsHub.DeltaMethod, m =>
        {
            if (m.FromSequence != Sequence + 1)
            {
                Gaps.Enqueue($"delta {m.FromSequence}-{m.ToSequence} after {Sequence}");
            }

            Volatile.Write(ref _sequence, m.ToSequence);
        });
    }

    /// <summary>The last sequence received; -1 before the Snapshot.</summary>
    public long Sequence => Volatile.Read(ref _sequence);

    public ConcurrentQueue<string> Gaps { get; } = new();
}
