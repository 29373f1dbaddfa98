using System.Globalization;

namespace PortDashboard.Model;

/// <summary>One point of the churn chart: sockets opened and closed during a bucket, ephemeral ports in use at its end.</summary>
public readonly record struct ChurnPoint(DateTimeOffset Start, int Opened, int Closed, int EphemeralPortsInUse);

/// <summary>
/// Socket churn over the last few minutes, one bucket per poll tick (or a few ticks when the interval is short,
/// so the chart keeps at most <see cref="MaxPoints"/> points). Ticks with no delta count as zero churn.
/// </summary>
public sealed class ChurnHistory
{
    private readonly List<ChurnPoint> _points = [];

    public ChurnHistory(TimeSpan window, int maxPoints = 150)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPoints, 2);
        Window = window;
        MaxPoints = maxPoints;
        BucketWidth = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, window.Ticks / maxPoints));
    }

    public TimeSpan Window { get; }

    public int MaxPoints { get; }

    /// <summary>The time one point covers.</summary>
    public TimeSpan BucketWidth { get; private set; }

    public IReadOnlyList<ChurnPoint> Points => _points;

    /// <summary>Bumped on every change, so a chart rebuilds its series only when needed.</summary>
    public int Version { get; private set; }

    /// <summary>Sets the bucket width from the poll interval (one tick a bucket, unless that makes too many); clears on change.</summary>
    public void UsePollInterval(TimeSpan pollInterval)
    {
        var minimum = Window.Ticks / MaxPoints;
        var width = TimeSpan.FromTicks(Math.Max(Math.Max(pollInterval.Ticks, minimum), TimeSpan.TicksPerMillisecond));
        if (width != BucketWidth)
        {
            BucketWidth = width;
            _points.Clear();
            Version++;
        }
    }

    /// <summary>Records one tick's delta.</summary>
    public void Record(DateTimeOffset at, int opened, int closed, int ephemeralPortsInUse)
    {
        var start = new DateTimeOffset(at.UtcTicks - (at.UtcTicks % BucketWidth.Ticks), TimeSpan.Zero);
        if (_points.Count > 0)
        {
            var last = _points[^1];
            if (start < last.Start)
            {
                return; // out of order: the clock went back; keep the chart monotonic
            }

            if (start == last.Start)
            {
                _points[^1] = last with
                {
                    Opened = last.Opened + opened,
                    Closed = last.Closed + closed,
                    EphemeralPortsInUse = ephemeralPortsInUse,
                };
                Version++;
                return;
            }

            // Quiet ticks between the last point and this one had no churn.
            var gap = Math.Min((start - last.Start).Ticks / BucketWidth.Ticks - 1, MaxPoints);
            for (var i = 1; i <= gap; i++)
            {
                _points.Add(new ChurnPoint(last.Start + (BucketWidth * i), 0, 0, last.EphemeralPortsInUse));
            }
        }

        _points.Add(new ChurnPoint(start, opened, closed, ephemeralPortsInUse));
        var cutoff = start - Window;
        var stale = 0;
        while (stale < _points.Count && _points[stale].Start <= cutoff)
        {
            stale++;
        }

        _points.RemoveRange(0, stale);
        Version++;
    }

    /// <summary>X-axis labels: the time before the newest point at each whole minute, <c>now</c> at the end, blanks between.</summary>
    public string[] Labels()
    {
        var labels = new string[_points.Count];
        if (labels.Length == 0)
        {
            return labels;
        }

        var newest = _points[^1].Start;
        var step = TimeSpan.FromMinutes(1).Ticks;
        for (var i = 0; i < labels.Length; i++)
        {
            var before = (newest - _points[i].Start).Ticks;
            labels[i] = i == labels.Length - 1
                ? "now"
                : before % step < BucketWidth.Ticks && before >= step
                    ? string.Create(CultureInfo.InvariantCulture, $"-{before / step}m")
                    : "";
        }

        return labels;
    }
}
