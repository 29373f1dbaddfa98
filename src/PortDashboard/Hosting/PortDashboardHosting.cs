using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MudBlazor.Services;
using PortDashboard.Api;
using PortDashboard.Components;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Reading;
using PortDashboard.Hubs;
using PortDashboard.Insight;
using PortDashboard.Monitoring;
using Serilog;

namespace PortDashboard.Hosting;

/// <summary>The app's composition: services (<see cref="AddPortDashboard"/>) and the request pipeline (<see cref="MapPortDashboard"/>).</summary>
public static class PortDashboardHosting
{
    /// <summary>
    /// Where the app looks for its configuration and web root when it is not told: the working directory when it holds
    /// appsettings.json (<c>dotnet run --project src/PortDashboard</c> from the repository root reads the top-level
    /// file), otherwise the app's own directory (a published build started from anywhere).
    /// </summary>
    public static WebApplicationOptions Options(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var told = args.Any(a => a.Contains("contentRoot", StringComparison.OrdinalIgnoreCase))
            || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ASPNETCORE_CONTENTROOT"))
            || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOTNET_CONTENTROOT"));
        var contentRoot = told || File.Exists(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"))
            ? null
            : File.Exists(Path.Combine(AppContext.BaseDirectory, "appsettings.json")) ? AppContext.BaseDirectory : null;
        return new WebApplicationOptions { Args = args, ContentRootPath = contentRoot };
    }

    public static WebApplicationBuilder AddPortDashboard(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;

        AnchorLogFilePaths(builder);

        // Serilog from the "Serilog" section. Each host builds its own logger and leaves the static bootstrap logger
        // alone, so several hosts in one process (the web tests) never fight over it.
        services.AddSerilog(
            (provider, logger) => logger
                .ReadFrom.Configuration(builder.Configuration)
                .ReadFrom.Services(provider)
                .Enrich.FromLogContext(),
            preserveStaticLogger: true);

        services.AddOptions<PortDashboardOptions>()
            .Configure<IConfiguration>((options, configuration) => options.Bind(configuration.GetSection(PortDashboardOptions.SectionName)))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<PortDashboardOptions>, PortDashboardOptionsValidator>();

        services.AddPortDashboardMonitoring();
        services.AddPortDashboardInsight();

        services.TryAddSingleton(_ => ServiceNameRegistry.LoadDefault());
        services.AddSingleton(provider => new WireMapper(
            provider.GetRequiredService<ServiceNameRegistry>(),
            provider.GetRequiredService<IOptions<PortDashboardOptions>>().Value.ShowCommandLine));

        services.AddSignalR();
        services.AddSingleton<HubSubscriptions>();
        services.AddProblemDetails();
        services.AddHealthChecks().AddCheck<SnapshotHealthCheck>(SnapshotHealthCheck.Name);

        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices();
        return builder;
    }

    /// <summary>The snapshot service and the live feed. A test may register its own reader or TimeProvider first.</summary>
    public static IServiceCollection AddPortDashboardMonitoring(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(provider =>
            SocketTableReaders.CreateDefault(provider.GetRequiredService<IOptions<PortDashboardOptions>>().Value.ProcRoot));
        services.TryAddSingleton(provider =>
        {
            var options = provider.GetRequiredService<IOptions<PortDashboardOptions>>().Value;
            return new Snapshotter(
                provider.GetRequiredService<ISocketTableReader>(),
                new SnapshotterOptions
                {
                    ProcRoot = options.ProcRoot,
                    AttributeOwners = options.AttributeOwners,
                    IncludeCommandLine = options.ShowCommandLine,
                },
                provider.GetRequiredService<TimeProvider>());
        });
        services.TryAddSingleton<SnapshotFeed>();
        services.TryAddSingleton<ISnapshotFeed>(provider => provider.GetRequiredService<SnapshotFeed>());
        services.AddHostedService<SnapshotService>();
        return services;
    }

    /// <summary>
    /// Resolves a relative <c>Serilog:WriteTo:*:Args:path</c> against the content root, not the working directory, so a
    /// published build started from anywhere writes <c>logs/</c> beside its configuration file.
    /// </summary>
    private static void AnchorLogFilePaths(WebApplicationBuilder builder)
    {
        foreach (var sink in builder.Configuration.GetSection("Serilog:WriteTo").GetChildren())
        {
            var key = ConfigurationPath.Combine(sink.Path, "Args", "path");
            var path = builder.Configuration[key];
            if (!string.IsNullOrEmpty(path) && !Path.IsPathRooted(path))
            {
                builder.Configuration[key] = Path.Combine(builder.Environment.ContentRootPath, path);
            }
        }
    }

    public static WebApplication MapPortDashboard(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/Error", createScopeForErrors: true);
        }

        app.UseSerilogRequestLogging(options =>
        {
            options.Logger = app.Services.GetRequiredService<Serilog.ILogger>();

            options.GetLevel = RequestLogLevel;
        });
        app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
        app.UseAntiforgery();

        app.MapStaticAssets();
        app.MapSnapshotApi();
        app.MapPortDashboardInsight();
        app.MapHealthChecks(SnapshotHealthCheck.Path, SnapshotHealthCheck.EndpointOptions);
        app.MapHub<SocketsHub>(SocketsHub.Path);
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();

        app.Lifetime.ApplicationStarted.Register(() => LogExposure(app));
        return app;
    }

    /// <summary>Health probes and static files are frequent and dull: debug level unless they fail.</summary>
    private static Serilog.Events.LogEventLevel RequestLogLevel(HttpContext context, double elapsedMs, Exception? exception)
    {
        if (exception is not null || context.Response.StatusCode >= StatusCodes.Status500InternalServerError)
        {
            return Serilog.Events.LogEventLevel.Error;
        }

        var path = context.Request.Path;
        var routine = path.StartsWithSegments(SnapshotHealthCheck.Path)
            || path.StartsWithSegments("/_framework")
            || path.StartsWithSegments("/_content")
            || (Path.HasExtension(path.Value) && !path.StartsWithSegments("/api"));
        return routine ? Serilog.Events.LogEventLevel.Debug : Serilog.Events.LogEventLevel.Information;
    }

    /// <summary>Logs where the app listens and whether that is reachable from other machines.</summary>
    private static void LogExposure(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var exposed = addresses.Where(a => !IsLoopback(a)).ToList();
        if (exposed.Count == 0)
        {
            app.Logger.LogInformation("Listening on {Addresses}: loopback only", addresses);
        }
        else
        {
            app.Logger.LogWarning(
                "Listening on {Addresses}: {Exposed} can be reached from other machines; the dashboard shows this machine's processes and connections",
                addresses, exposed);
        }
    }

    private static bool IsLoopback(string address)
    {
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri))
        {
            return false;
        }

        var host = uri.Host.Trim('[', ']');
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (System.Net.IPAddress.TryParse(host, out var ip) && System.Net.IPAddress.IsLoopback(ip));
    }
}
