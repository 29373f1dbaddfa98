using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using PortDashboard.Insight;
using PortDashboard.Insight.Listeners;

namespace PortDashboard.Tests.Insight.Support;

/// <summary>The insight state and metrics on a real meter factory (for <c>MetricCollector</c>), with a fake clock.</summary>
public sealed class InsightTestHost : IDisposable
{
    private readonly ServiceProvider _services;

    public InsightTestHost()
    {
        Time = new FakeTimeProvider(new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.Zero));
        var services = new ServiceCollection();
        services.AddMetrics();
        _services = services.BuildServiceProvider();
        MeterFactory = _services.GetRequiredService<IMeterFactory>();
        Listeners = new ListenerWatch();
        State = new InsightState(Listeners, Time);
        Metrics = new InsightMetrics(MeterFactory, State);
    }

    public FakeTimeProvider Time { get; }

    public IMeterFactory MeterFactory { get; }

    public ListenerWatch Listeners { get; }

    public InsightState State { get; }

    public InsightMetrics Metrics { get; }

    public void Dispose() => _services.Dispose();
}
