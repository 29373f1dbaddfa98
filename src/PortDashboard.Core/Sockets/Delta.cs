using System.Buffers;
using System.Collections.Immutable;

namespace PortDashboard.Core.Sockets;

/// <summary>A socket whose state or owners changed between two snapshots (its key did not).</summary>
public sealed record SocketChange(Socket Before, Socket After);

/// <summary>What changed between two consecutive snapshots.</summary>
/// <param name="Sequence">Numbered by whoever publishes deltas, so a consumer can detect a gap; 0 until then.</param>
/// <param name="PreviousTakenAt">When the earlier snapshot was taken.</param>
/// <param name="TakenAt">When the later snapshot was taken.</param>
public sealed record Delta(
    long Sequence,
    DateTimeOffset PreviousTakenAt,
    DateTimeOffset TakenAt,
    ImmutableArray<Socket> Added,
    ImmutableArray<Socket> Removed,
    ImmutableArray<SocketChange> Changed)
{
    public bool IsEmpty => Added.IsEmpty && Removed.IsEmpty && Changed.IsEmpty;

    public int Count => Added.Length + Removed.Length + Changed.Length;

    /// <summary>Compares two snapshots in time linear in their sizes.</summary>
    public static Delta Between(Snapshot previous, Snapshot current)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(current);

        // The snapshotter puts the previous snapshot's instance in place of every unchanged socket, and the kernel lists
        // in the same order poll after poll: most sockets are found, by reference, at or just after a cursor walking the
        // previous snapshot's array. Those are marked present; the rest go through the indexes.
        var before = previous.Sockets;
        var present = ArrayPool<bool>.Shared.Rent(before.Length);
        Array.Clear(present, 0, before.Length);
        try
        {
            var added = ImmutableArray.CreateBuilder<Socket>();
            var changed = ImmutableArray.CreateBuilder<SocketChange>();
            var cursor = 0;
            foreach (var socket in current.Sockets)
            {
                var end = Math.Min(cursor + SnapshotCursor.Lookahead, before.Length);
                var at = -1;
                for (var i = cursor; i < end && at < 0; i++)
                {
                    at = ReferenceEquals(before[i], socket) ? i : -1;
                }

                if (at >= 0)
                {
                    present[at] = true;
                    cursor = at + 1;
                }
                else if (!previous.TryGet(socket, out var earlier))
                {
                    added.Add(socket);
                }
                else if (!ReferenceEquals(earlier, socket) && earlier.DiffersFrom(socket))
                {
                    changed.Add(new SocketChange(earlier, socket));
                }
            }

            var removed = ImmutableArray.CreateBuilder<Socket>();
            for (var i = 0; i < before.Length; i++)
            {
                if (!present[i] && !current.Contains(before[i]))
                {
                    removed.Add(before[i]);
                }
            }

            return new Delta(0, previous.TakenAt, current.TakenAt, added.DrainToImmutable(), removed.DrainToImmutable(), changed.DrainToImmutable());
        }
        finally
        {
            ArrayPool<bool>.Shared.Return(present);
        }
    }
}
