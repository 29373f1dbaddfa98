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

        var added = ImmutableArray.CreateBuilder<Socket>();
        var changed = ImmutableArray.CreateBuilder<SocketChange>();
        foreach (var socket in current.Sockets)
        {
            if (!previous.TryGet(socket, out var before))
            {
                added.Add(socket);
            }
            else if (!ReferenceEquals(before, socket) && before.DiffersFrom(socket))
            {
                changed.Add(new SocketChange(before, socket));
            }
        }

        var removed = ImmutableArray.CreateBuilder<Socket>();
        foreach (var socket in previous.Sockets)
        {
            if (!current.Contains(socket))
            {
                removed.Add(socket);
            }
        }

        return new Delta(0, previous.TakenAt, current.TakenAt, added.DrainToImmutable(), removed.DrainToImmutable(), changed.DrainToImmutable());
    }
}
