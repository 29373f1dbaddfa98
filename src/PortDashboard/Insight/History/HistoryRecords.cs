using System.Collections.Immutable;
using PortDashboard.Core.Sockets;
using PortDashboard.Insight.Listeners;
using PortDashboard.Insight.ShortLived;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Insight.History;

/// <summary>How a socket's birth is known.</summary>
public enum HistoryKind : byte
{
    /// <summary>It appeared in a snapshot: born between that poll and the one before.</summary>
    Opened = 0,

    /// <summary>It was already open when watching started: born then or earlier.</summary>
    OpenAtStart = 1,

    /// <summary>It opened and closed between two polls: only its closing was seen.</summary>
    ShortLived = 2,
}

/// <summary>One socket's life as the history database keeps it.</summary>
/// <param name="Id">The row's number (grows with time).</param>
/// <param name="Kind">How its birth is known.</param>
/// <param name="Socket">Its endpoints, state at birth, inode, uid and owner (the first one known).</param>
/// <param name="FinalState">Its state when last seen (null while alive).</param>
/// <param name="BornAt">When first seen (for <see cref="HistoryKind.ShortLived"/>, when seen closing).</param>
/// <param name="DiedAt">When first missed (null while alive).</param>
/// <param name="DiedUnwatched">Whether it went while PortDashboard was not running (died at or before <see cref="DiedAt"/>).</param>
/// <param name="OwnerSource">How the owner was found (for sockets seen only closing).</param>
public sealed record HistoryRow(
    long Id,
    HistoryKind Kind,
    Socket Socket,
    SocketState? FinalState,
    DateTimeOffset BornAt,
    DateTimeOffset? DiedAt,
    bool DiedUnwatched,
    OwnerSource OwnerSource)
{
    /// <summary>How long it lived, as far as the polls tell; null while alive.</summary>
    public TimeSpan? Lifetime => DiedAt is { } died ? (died > BornAt ? died - BornAt : TimeSpan.Zero) : null; // never negative, whatever the wall clock did

    public bool IsAliveAt(DateTimeOffset at) => Kind != HistoryKind.ShortLived && BornAt <= at && (DiedAt is null || at < DiedAt);
}

/// <summary>What the history writer does, in order.</summary>
internal abstract record HistoryOp;

/// <summary>A socket born (or seen closing, for a short-lived one: then <paramref name="DiedAt"/> is set).</summary>
internal sealed record InsertSocketOp(long Id, HistoryKind Kind, Socket Socket, ProcessInfo? Owner, OwnerSource OwnerSource, DateTimeOffset BornAt, DateTimeOffset? DiedAt) : HistoryOp;

/// <summary>A socket gone: its death time, final state, and its owner when none was known at birth.</summary>
internal sealed record CloseSocketOp(long Id, DateTimeOffset DiedAt, SocketState FinalState, ProcessInfo? LateOwner, bool Unwatched) : HistoryOp;

internal sealed record ListenerEventOp(ListenerEvent Event) : HistoryOp;

/// <summary>The latest poll recorded: after a restart, the sockets gone meanwhile died at or before it.</summary>
internal sealed record HeartbeatOp(DateTimeOffset At) : HistoryOp;

/// <summary>Completes <paramref name="Done"/> once the writes queued before it are committed.</summary>
internal sealed record FlushOp(TaskCompletionSource Done) : HistoryOp;

/// <summary>An alive socket as a previous run left it in the database, with the time it was first seen.</summary>
internal readonly record struct OpenRow(long Id, SocketKey Key, SocketState State, DateTimeOffset BornAt);

/// <summary>What a run needs from the previous one to carry on.</summary>
internal sealed record HistoryResume(
    long NextId,
    DateTimeOffset? LastHeartbeat,
    ImmutableArray<OpenRow> OpenRows,
    ImmutableArray<ListenerEvent> ListenerEvents,
    ListenerBaseline? Baseline)
{
    public static HistoryResume Fresh { get; } = new(1, null, [], [], null);
}

/// <summary>Sockets opened and closed in one minute.</summary>
public readonly record struct MinuteCounts(DateTimeOffset Minute, int Opened, int Closed);

/// <summary>The lifetime buckets of the histogram, shortest first.</summary>
public static class LifetimeBuckets
{
    /// <summary>Labels, index-aligned with <see cref="ProcessLifetimes.Counts"/>.</summary>
    public static ImmutableArray<string> Labels { get; } = ["between polls", "< 1 s", "1–10 s", "10 s–1 min", "1–10 min", "10 min–1 h", "≥ 1 h"];

    /// <summary>Where each bucket after "between polls" ends, in milliseconds (the last has no end).</summary>
    internal static ImmutableArray<long> UpperBoundsMs { get; } = [1_000, 10_000, 60_000, 600_000, 3_600_000];

    public static int Of(HistoryKind kind, TimeSpan lifetime)
    {
        if (kind == HistoryKind.ShortLived)
        {
            return 0;
        }

        var ms = (long)lifetime.TotalMilliseconds;
        var index = 0;
        while (index < UpperBoundsMs.Length && ms >= UpperBoundsMs[index])
        {
            index++;
        }

        return index + 1;
    }

    /// <summary>The same bucketing as <see cref="Of"/>, as an SQL expression over <c>kind</c> and <c>died_at - born_at</c>.</summary>
    internal static string SqlCase()
    {
        var text = new System.Text.StringBuilder($"CASE WHEN kind = {(int)HistoryKind.ShortLived} THEN 0");
        for (var i = 0; i < UpperBoundsMs.Length; i++)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $" WHEN died_at - born_at < {UpperBoundsMs[i]} THEN {i + 1}");
        }

        return text.Append(System.Globalization.CultureInfo.InvariantCulture, $" ELSE {UpperBoundsMs.Length + 1} END").ToString();
    }
}

/// <summary>How long one process's sockets lived, bucketed (sockets born while watched, TIME_WAIT left out).</summary>
public sealed record ProcessLifetimes(string Process, ImmutableArray<int> Counts)
{
    public int Total => Counts.Sum();
}
