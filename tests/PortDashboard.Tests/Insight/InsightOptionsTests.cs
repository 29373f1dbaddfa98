using System.Reflection;
using Microsoft.AspNetCore.Builder;
using PortDashboard.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PortDashboard.Insight;
using PortDashboard.Insight.ShortLived;
using PortDashboard.Tests.Insight.Support;
using PortDashboard.Tests.Support;

namespace PortDashboard.Tests.Insight;

public sealed class InsightOptionsTests
{
    private static IReadOnlyList<string> Errors(InsightOptions options) =>
        new InsightOptionsValidator().Validate(null, options) is { Failed: true } result ? [.. result.Failures!] : [];

    [Fact]
    public void The_defaults_are_valid_and_every_key_is_documented_in_the_readme()
    {
        Assert.Empty(Errors(new InsightOptions()));

        var readme = File.ReadAllText(Path.Combine(Support.Repository.Root, "README.md"));
        foreach (var (section, type) in new[] { (InsightOptions.PressureSection, typeof(PressureOptions)), (InsightOptions.HistorySection, typeof(HistoryOptions)) })
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
            {
                Assert.Contains($"`{section}:{property.Name}`", readme, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Each_bad_value_is_reported_with_its_key_and_what_is_allowed()
    {
        var options = new InsightOptions
        {
            Pressure = { Warning = 95, Critical = 90, HeatmapBuckets = 2, HeatmapSlot = TimeSpan.FromSeconds(10), HeatmapWindow = TimeSpan.FromHours(2) },
            History = { Path = " ", MaxRows = 10, MaxAge = TimeSpan.FromSeconds(5) },
        };

        var errors = Errors(options);

        Assert.Contains("PortDashboard:Pressure:Critical (90) is below PortDashboard:Pressure:Warning (95); critical must be at least the warning level", errors);
        Assert.Contains("PortDashboard:Pressure:HeatmapBuckets is 2; it must be from 4 to 256", errors);
        Assert.Contains(errors, e => e.StartsWith("PortDashboard:Pressure:HeatmapWindow is 02:00:00; it must hold from 1 to 360 slots", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("PortDashboard:History:Path is empty", StringComparison.Ordinal));
        Assert.Contains("PortDashboard:History:MaxRows is 10; it must be from 1000 to 100000000", errors);
        Assert.Contains("PortDashboard:History:MaxAge is 00:00:05; it must be at least 1 min (00:01:00)", errors);
        Assert.Equal(6, errors.Count);
    }

    [Fact]
    public async Task A_bad_threshold_stops_the_app_at_start_with_the_key()
    {
        var history = Path.Combine(Path.GetTempPath(), $"portdashboard-history-options-{Guid.NewGuid():N}.db");
        var builder = WebApplication.CreateBuilder(PortDashboardHosting.Options(
            ["--urls=http://127.0.0.1:0", "--PortDashboard:Pressure:Critical=150", $"--PortDashboard:History:Path={history}"]));
        builder.AddPortDashboard();
        await using var app = builder.Build();
        app.MapPortDashboard();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("PortDashboard:Pressure:Critical is 150; it must be a percentage above 0 and at most 100", error.Failures);
        Assert.False(File.Exists(history), "nothing was written before the options were checked");
    }

    [Fact]
    public async Task Without_the_capability_the_capture_says_why_and_how_to_enable_it_once()
    {
        using var host = new InsightTestHost();
        var log = new ListLogger<DestroyCapture>();
        using var capture = new DestroyCapture(host.Time, host.Metrics, log, () => (null, "not permitted: socket-destroy notifications need CAP_NET_ADMIN (run as root or add the capability)"));

        await capture.StartAsync(TestContext.Current.CancellationToken);
        await Eventually.WaitUntil(() => capture.Status.IsNotCaptured, "the capture gave up");
        await capture.StopAsync(TestContext.Current.CancellationToken);

        Assert.StartsWith("not permitted", capture.Status.Reason, StringComparison.Ordinal);
        var warning = Assert.Single(log.Entries);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("CAP_NET_ADMIN", warning.Message, StringComparison.Ordinal);
        Assert.Contains("--cap-add NET_ADMIN", warning.Message, StringComparison.Ordinal);
    }
}
