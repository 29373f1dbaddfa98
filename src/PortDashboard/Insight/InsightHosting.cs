using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PortDashboard.Insight.History;
using PortDashboard.Insight.Listeners;
using PortDashboard.Insight.ShortLived;

namespace PortDashboard.Insight;

/// <summary>
/// The insight feature's composition: ephemeral port pressure, short-lived connections, history and listener watch
/// (<see cref="AddPortDashboardInsight"/>), and its API (<see cref="MapPortDashboardInsight"/>).
/// </summary>
public static class InsightHosting
{
    public static IServiceCollection AddPortDashboardInsight(this IServiceCollection services)
    {
        services.AddOptions<InsightOptions>()
            .Configure<IConfiguration>((options, config) =>
            {
                config.GetSection(InsightOptions.PressureSection).Bind(options.Pressure);
                config.GetSection(InsightOptions.HistorySection).Bind(options.History);
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<InsightOptions>, InsightOptionsValidator>();

        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ListenerWatch>();
        services.TryAddSingleton<InsightState>();
        services.TryAddSingleton<InsightMetrics>();
        services.TryAddSingleton<DestroyCapture>();
        services.TryAddSingleton<HistoryWriter>();
        services.TryAddSingleton<InsightService>();

        // Stopped in reverse order: the insight loop first, then the writer drains its queue, then the capture.
        services.AddHostedService(provider => provider.GetRequiredService<DestroyCapture>());
        services.AddHostedService(provider => provider.GetRequiredService<HistoryWriter>());
        services.AddHostedService(provider => provider.GetRequiredService<InsightService>());
        return services;
    }

    public static IEndpointRouteBuilder MapPortDashboardInsight(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapInsightApi();
        return endpoints;
    }
}
