using PortDashboard.Model;

namespace PortDashboard.Tests.Model;

public sealed class ChurnHistoryTests
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void One_point_per_tick_with_quiet_ticks_filled_in()
    {
        var history = new ChurnHistory(TimeSpan.FromMinutes(5));
        history.UsePollInterval(TimeSpan.FromSeconds(2));

        history.Record(T0, 3, 1, 10);
        history.Record(T0.AddSeconds(6), 1, 0, 11);

        Assert.Equal(
            [
                new ChurnPoint(T0, 3, 1, 10),
                new ChurnPoint(T0.AddSeconds(2), 0, 0, 10),
                new ChurnPoint(T0.AddSeconds(4), 0, 0, 10),
                new ChurnPoint(T0.AddSeconds(6), 1, 0, 11),
            ],
            history.Points);
    }

    [Fact]
    public void A_short_poll_interval_groups_ticks_so_the_chart_keeps_its_point_budget()
    {
        var history = new ChurnHistory(TimeSpan.FromMinutes(5), maxPoints: 150);
        history.UsePollInterval(TimeSpan.FromMilliseconds(100));
        Assert.Equal(TimeSpan.FromSeconds(2), history.BucketWidth);

        for (var i = 0; i < 20; i++)
        {
            history.Record(T0.AddMilliseconds(100 * i), 1, 1, i);
        }

        var point = Assert.Single(history.Points);
        Assert.Equal((20, 20, 19), (point.Opened, point.Closed, point.EphemeralPortsInUse));
    }

    [Fact]
    public void Points_older_than_the_window_are_dropped()
    {
        var history = new ChurnHistory(TimeSpan.FromMinutes(1), maxPoints: 60);
        history.UsePollInterval(TimeSpan.FromSeconds(1));

        for (var i = 0; i < 100; i++)
        {
            history.Record(T0.AddSeconds(i), 1, 0, 0);
        }

        Assert.Equal(60, history.Points.Count);
        Assert.Equal(T0.AddSeconds(40), history.Points[0].Start);
        Assert.Equal(T0.AddSeconds(99), history.Points[^1].Start);
    }

    [Fact]
    public void Labels_mark_whole_minutes_back_from_now()
    {
        var history = new ChurnHistory(TimeSpan.FromMinutes(5));
        history.UsePollInterval(TimeSpan.FromSeconds(2));
        for (var i = 0; i <= 150; i++)
        {
            history.Record(T0.AddSeconds(2 * i), 0, 0, 0);
        }

        var labels = history.Labels();

        Assert.Equal("now", labels[^1]);
        Assert.Equal(["-4m", "-3m", "-2m", "-1m", "now"], labels.Where(l => l.Length > 0));
        Assert.Equal("-1m", labels[^31]);
    }
}
