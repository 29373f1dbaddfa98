using MessagePack;

namespace PortDashboard.Api;

// The hub's fleet messages (SubscribeFleet): the same shapes as the local table's Snapshot and Delta, wrapped with the
// host they belong to. MessagePack positions are the Key numbers; README.md, "Fleet: many hosts in one view", lists
// them. A Key number, once published, keeps its meaning: add new ones at the end.

/// <summary>
/// One host's table in a fleet subscription's view: the first message for that host, and again on every resync
/// (<paramref name="Resync"/>): the node reloaded the host's snapshot (a gap in its stream, a trimmed stream, a Redis
/// restart, another agent instance) or the client read too slowly. The client replaces the host's rows with it.
/// </summary>
/// <param name="Host">The host's fleet name.</param>
/// <param name="Status"><c>online</c>, <c>stale</c> or <c>offline</c>: only an online host's sockets are live.</param>
/// <param name="Resync">False for the first Snapshot of this host on this subscription, true for every later one.</param>
/// <param name="Snapshot">
/// The filtered table; its <see cref="SnapshotMessage.Sequence"/> is the agent's own sequence number of the last delta
/// it includes (the number in the host's Redis stream, the same on every dashboard node).
/// </param>
[MessagePackObject]
public sealed record FleetHostSnapshotMessage(
    [property: Key(0)] string Host,
    [property: Key(1)] string Status,
    [property: Key(2)] bool Resync,
    [property: Key(3)] SnapshotMessage Snapshot);

/// <summary>
/// One delta of a host, as its agent wrote it to its stream (its own <see cref="DeltaMessage.FromSequence"/> and
/// <see cref="DeltaMessage.ToSequence"/>, the same on every dashboard node), filtered to the subscription's view.
/// Contiguous per host: each one's FromSequence is that host's previous ToSequence + 1 (or its Snapshot's Sequence + 1).
/// </summary>
[MessagePackObject]
public sealed record FleetHostDeltaMessage(
    [property: Key(0)] string Host,
    [property: Key(1)] DeltaMessage Delta);

/// <summary>A host's status changed (heartbeat fresh, late or lapsed; Redis lost); its rows stay, marked by it.</summary>
/// <param name="Sequence">The agent's sequence the node's table of that host is at.</param>
[MessagePackObject]
public sealed record FleetHostStatusMessage(
    [property: Key(0)] string Host,
    [property: Key(1)] string Status,
    [property: Key(2)] DateTimeOffset? LastSeen,
    [property: Key(3)] long Sequence);
