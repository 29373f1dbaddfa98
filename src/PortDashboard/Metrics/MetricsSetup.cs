using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace PortDashboard.Metrics;

/// <summary>
/// <c>/metrics</c> in Prometheus text format, through OpenTelemetry's Prometheus exporter: the app's instruments
/// (<see cref="PortDashboardMetrics"/>) and the meters ASP.NET Core and the runtime already publish (requests, Kestrel
/// connections, SignalR and Blazor circuits, rate limiting, authentication, GC, thread pool).
/// </summary>
public static class MetricsSetup
{
    public const string Path = "/metrics";

    /// <summary>The framework's own meters exported beside the app's.</summary>
    public static readonly string[] FrameworkMeters =
    [
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Http.Connections",
        "Microsoft.AspNetCore.Routing",
        "Microsoft.AspNetCore.Diagnostics",
        "Microsoft.AspNetCore.RateLimiting",
        "Microsoft.AspNetCore.Authentication",
        "Microsoft.AspNetCore.Authorization",
        "Microsoft.AspNetCore.Components",
        "Microsoft.AspNetCore.Components.Lifecycle",
        "Microsoft.AspNetCore.Components.Server.Circuits",
        "System.Runtime",
    ];

    public static IServiceCollection AddPortDashboardMetrics(this IServiceCollection services)
    {
        services.AddSingleton<PortDashboardMetrics>();
        services.AddHostedService(provider => provider.GetRequiredService<PortDashboardMetrics>());
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("portdashboard"))
            .WithMetrics(metrics => metrics
                .AddMeter(PortDashboardMetrics.MeterName)
                .AddMeter(FrameworkMeters)
                .AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0));
        return services;
    }

    /// <summary>Maps <c>GET /metrics</c>; with <c>PortDashboard:Auth</c> on it takes the bearer token or the session cookie like the API.</summary>
    public static IEndpointConventionBuilder MapPortDashboardMetrics(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPrometheusScrapingEndpoint(Path);
}
