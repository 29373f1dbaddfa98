using System.Collections.Immutable;
using PortDashboard.Core.Ports;

namespace PortDashboard.Insight.Pressure;

/// <summary>
/// Where in the OS ephemeral range new outgoing sockets took their source port, over time: the range cut into
/// <see cref="Buckets"/> slices, time into slots of <see cref="Slot"/>, the last <see cref="Columns"/> slots kept.
/// Not thread-safe: the insight loop writes it and publishes immutable <see cref="HeatmapView"/>s.
/// </summary>
public sealed class AllocationHeatmap
{
    /// <summary>The slots that counted something, oldest first.</summary>
    private readonly List<(long Slot, int[] Counts)> _columns = [];
    private OsPortPolicy? _policy;

    public AllocationHeatmap(int buckets, TimeSpan slot, TimeSpan window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(buckets, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(slot, TimeSpan.FromMilliseconds(1));
        Buckets = buckets;
        Slot = slot;
        Columns = Math.Max(1, (int)(window / slot));
    }

    public int Buckets { get; }

    public TimeSpan Slot { get; }

    public int Columns { get; }

    /// <summary>Counts one new socket on <paramref name="port"/> at <paramref name="at"/>; ports outside the OS range are ignored.</summary>
    public void Record(int port, OsPortPolicy policy, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (!Equals(policy, _policy))
        {
            _columns.Clear(); // the range moved: the old slices mean other ports
            _policy = policy;
        }

        if (!policy.IsOsEphemeral(port))
        {
            return;
        }

        var slot = SlotOf(at);
        var newest = _columns.Count > 0 ? Math.Max(_columns[^1].Slot, slot) : slot;
        if (slot <= newest - Columns)
        {
            return; // older than the window
        }

        // A late count (a socket seen closing, stamped when it was seen, handled after a poll of a later slot) goes to
        // its own slot, which may have counted nothing yet.
        var index = _columns.FindLastIndex(c => c.Slot <= slot);
        int[] counts;
        if (index >= 0 && _columns[index].Slot == slot)
        {
            counts = _columns[index].Counts;
        }
        else
        {
            counts = new int[Buckets];
            _columns.Insert(index + 1, (slot, counts));
        }

        counts[BucketOf(port, policy)]++;
        Expire(newest);
    }

    public int BucketOf(int port, OsPortPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return (int)((long)(port - policy.EphemeralFirst) * Buckets / policy.EphemeralRangeSize);
    }

    /// <summary>The last <see cref="Columns"/> slots up to <paramref name="now"/>, oldest first, empty slots included.</summary>
    public HeatmapView View(DateTimeOffset now, OsPortPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var last = SlotOf(now);
        Expire(last);
        var first = last - Columns + 1;
        var columns = ImmutableArray.CreateBuilder<HeatmapColumn>(Columns);
        var kept = Equals(policy, _policy) ? _columns.ToDictionary(c => c.Slot, c => c.Counts) : [];
        var max = 0;
        for (var slot = first; slot <= last; slot++)
        {
            var counts = kept.TryGetValue(slot, out var c) ? ImmutableArray.Create(c) : ImmutableArray.Create(new int[Buckets]);
            foreach (var count in counts)
            {
                max = Math.Max(max, count);
            }

            columns.Add(new HeatmapColumn(new DateTimeOffset(slot * Slot.Ticks, TimeSpan.Zero), counts));
        }

        return new HeatmapView(policy, Buckets, Slot, columns.MoveToImmutable(), max);
    }

    private long SlotOf(DateTimeOffset at) => at.UtcTicks / Slot.Ticks;

    private void Expire(long newestSlot)
    {
        var expired = 0;
        while (expired < _columns.Count && _columns[expired].Slot <= newestSlot - Columns)
        {
            expired++;
        }

        _columns.RemoveRange(0, expired);
    }
}

/// <summary>One time slot of the heatmap: new sockets per slice of the range.</summary>
public sealed record HeatmapColumn(DateTimeOffset Start, ImmutableArray<int> Counts);

/// <summary>An immutable picture of the heatmap for a page.</summary>
public sealed record HeatmapView(OsPortPolicy Policy, int Buckets, TimeSpan Slot, ImmutableArray<HeatmapColumn> Columns, int Max)
{
    public static HeatmapView Empty { get; } = new(OsPortPolicy.LinuxDefault, 1, TimeSpan.FromSeconds(10), [], 0);

    public int Total => Columns.Sum(c => c.Counts.Sum());

    /// <summary>The first port of a slice.</summary>
    public int FirstPort(int bucket) =>
        Policy.EphemeralFirst + (int)Math.Ceiling((double)bucket * Policy.EphemeralRangeSize / Buckets);

    /// <summary>The last port of a slice.</summary>
    public int LastPort(int bucket) => bucket == Buckets - 1 ? Policy.EphemeralLast : FirstPort(bucket + 1) - 1;
}
