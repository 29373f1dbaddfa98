using PortDashboard.Model;
using PortDashboard.Monitoring;

namespace PortDashboard.Components.Controls;

/// <summary>A banner while the snapshot service is failing: the error, and how old the last good snapshot is.</summary>
public partial class FeedStatusBanner
{
    private SnapshotServiceStatus _status = new(TimeSpan.Zero, null, null, 0);
    private string? _lastGoodAge;

    private string LastGood => _lastGoodAge is null
        ? "no snapshot has been taken yet."
        : $"the tables show the last good snapshot, taken {_lastGoodAge} ago.";

    protected override bool Observe(DateTimeOffset now)
    {
        var status = Feed.Status;
        var age = status is { IsFailing: true, LastSuccessAt: { } at } ? Display.Age(now > at ? now - at : TimeSpan.Zero) : null;
        var changed = !Equals(status, _status) || age != _lastGoodAge;
        (_status, _lastGoodAge) = (status, age);
        return changed;
    }

    private static string Plural(int count, string noun) => count == 1 ? $"1 {noun}" : $"{count} {noun}s";
}
