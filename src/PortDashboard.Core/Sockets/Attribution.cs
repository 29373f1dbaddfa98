namespace PortDashboard.Core.Sockets;

/// <summary>How completely a snapshot's sockets were attributed to processes.</summary>
public enum AttributionCompleteness : byte
{
    /// <summary>Every process's descriptors were read.</summary>
    Complete,

    /// <summary>Some processes could not be read (permission denied, exited mid-scan); their sockets show no owner.</summary>
    Partial,

    /// <summary>The reader does not attribute sockets (the portable reader), or attribution was turned off.</summary>
    Unavailable,
}

/// <summary>The outcome of attributing sockets to processes.</summary>
/// <param name="Completeness">Complete, partial or unavailable.</param>
/// <param name="ProcessesScanned">Processes whose descriptors were read.</param>
/// <param name="ProcessesSkipped">
/// Processes skipped because they could not be read or exited during the scan
/// (<see cref="ProcessesUnreadable"/> + <see cref="ProcessesVanished"/>).
/// </param>
/// <param name="Note">Why attribution is not complete, for people (e.g. what to run as to see every process).</param>
public sealed record AttributionStatus(AttributionCompleteness Completeness, int ProcessesScanned, int ProcessesSkipped, string? Note = null)
{
    /// <summary>Processes whose descriptors could not be read (permission denied, or not a readable directory).</summary>
    public int ProcessesUnreadable { get; init; }

    /// <summary>Processes that exited between the listing of the proc root and the reading of their descriptors.</summary>
    public int ProcessesVanished { get; init; }

    public static AttributionStatus Unavailable(string note) => new(AttributionCompleteness.Unavailable, 0, 0, note);

    /// <summary>The status of a scan: complete when no process was skipped, partial otherwise.</summary>
    public static AttributionStatus FromScan(int scanned, int unreadable, int vanished, string? note) =>
        new(unreadable + vanished == 0 ? AttributionCompleteness.Complete : AttributionCompleteness.Partial, scanned, unreadable + vanished, note)
        {
            ProcessesUnreadable = unreadable,
            ProcessesVanished = vanished,
        };

    public bool IsPartial => Completeness == AttributionCompleteness.Partial;
}
