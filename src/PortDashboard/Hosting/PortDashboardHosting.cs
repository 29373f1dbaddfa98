using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MudBlazor.Services;
using PortDashboard.Api;
using PortDashboard.Components;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Reading.Namespaces;
using PortDashboard.Fleet;
using PortDashboard.Hubs;
using PortDashboard.Metrics;
using PortDashboard.Insight;
using PortDashboard.Naming;
using PortDashboard.Monitoring;
using PortDashboard.Security;
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

    /// <summary>
    /// An unpublished build (<c>dotnet run -c Release</c>, <c>dotnet bin/Release/net10.0/PortDashboard.dll</c>) keeps its
    /// static web assets where the build found them (<c>_framework/blazor.web.js</c> in the framework's package,
    /// <c>_content/MudBlazor/*</c> in MudBlazor's, wwwroot/ at the repository root), listed in the runtime manifest
    /// beside the binary. Development reads that manifest by itself; every other environment needs
    /// <c>UseStaticWebAssets()</c>, or those files answer 500 and the page is unstyled and dead. A published build has
    /// no such manifest (its files are in its own wwwroot/) and is left as it is.
    /// </summary>
    internal static bool UseBuildOutputStaticWebAssets(WebApplicationBuilder builder)
    {
        var manifest = Path.Combine(AppContext.BaseDirectory, builder.Environment.ApplicationName + ".staticwebassets.runtime.json");
        if (builder.Environment.IsDevelopment() || !File.Exists(manifest))
        {
            return false;
        }

        builder.WebHost.UseStaticWebAssets();
        return true;
    }

    public static WebApplicationBuilder AddPortDashboard(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        UseBuildOutputStaticWebAssets(builder);

        // Serilog from the "Serilog" section of the host's final configuration (which also holds settings added after
        // this call, e.g. by tests). Each host builds its own logger and leaves the static bootstrap logger alone, so
        // several hosts in one process (the web tests) never fight over it.
        services.AddSerilog(
            (provider, logger) =>
            {
                var configuration = provider.GetRequiredService<IConfiguration>();
                AnchorLogFilePaths(configuration, provider.GetRequiredService<IWebHostEnvironment>().ContentRootPath);
                var json = string.Equals(configuration[LogFormatKey], "json", StringComparison.OrdinalIgnoreCase);
                logger
                    .ReadFrom.Configuration(json ? AsJsonLogs(configuration) : configuration)
                    .ReadFrom.Services(provider)
                    .Enrich.FromLogContext();
            },
            preserveStaticLogger: true);

        services.AddOptions<PortDashboardOptions>()
            .Configure<IConfiguration>((options, configuration) => options.Bind(configuration.GetSection(PortDashboardOptions.SectionName)))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<PortDashboardOptions>, PortDashboardOptionsValidator>();

        services.AddPortDashboardMetrics(); // before the snapshot service, so its first snapshot is measured too
        services.AddPortDashboardMonitoring();
        builder.AddPortDashboardSecurity();
        services.AddPortDashboardInsight();
        services.AddFleetDashboard(builder.Configuration); // only with PortDashboard:Fleet:Redis
        services.AddPortDashboardNaming();

        services.TryAddSingleton(_ => ServiceNameRegistry.LoadDefault());
        services.AddSingleton(provider => new WireMapper(
            provider.GetRequiredService<ServiceNameRegistry>(),
            provider.GetRequiredService<IOptions<PortDashboardOptions>>().Value.ShowCommandLine,
            provider.GetRequiredService<ISnapshotFeed>().Ages)
        {
            // host= on this node's own table: its fleet name, else the machine's.
            LocalHost = provider.GetRequiredService<IConfiguration>()[FleetOptions.SectionName + ":HostName"]
                ?? Snapshotter.HostName(provider.GetRequiredService<IOptions<PortDashboardOptions>>().Value.ProcRoot),
        });

        // JSON for people and scripts; MessagePack (positional arrays, see Api/WireShapes.cs) for compact deltas.
        services.AddSignalR().AddMessagePackProtocol();
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
        // Re-chooses the reader after a failure: a proc root that is missing at start or vanishes later recovers by itself.
        // With PortDashboard:Namespaces:Enabled, the other network namespaces' tables follow the host's.
        services.TryAddSingleton<ISocketTableReader>(provider =>
        {
            var options = provider.GetRequiredService<IOptions<PortDashboardOptions>>().Value;
            var host = new ReselectingReader(options.ProcRoot);
            return options.NamespacesEnabled
                ? new NamespacedReader(host, new NetworkNamespaces(options.ProcRoot), options.NamespaceReader,
                    interval: options.NamespaceInterval, time: provider.GetRequiredService<TimeProvider>())
                : host;
        });
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
                    FullAttributionInterval = options.FullAttributionInterval,
                    FullAttributionAfterPublish = true, // the snapshot service runs it once the snapshot is out
                },
                provider.GetRequiredService<TimeProvider>());
        });
        services.TryAddSingleton<SnapshotFeed>();
        services.TryAddSingleton<ISnapshotFeed>(provider => provider.GetRequiredService<SnapshotFeed>());
        services.AddHostedService<SnapshotService>();
        return services;
    }

    /// <summary><c>PortDashboard:LogFormat</c>: <c>text</c> (the sinks' own templates) or <c>json</c>.</summary>
    public const string LogFormatKey = PortDashboardOptions.SectionName + ":LogFormat";

    private const string CompactJson = "Serilog.Formatting.Compact.CompactJsonFormatter, Serilog.Formatting.Compact";

    /// <summary>
    /// The "Serilog" section with the console and file sinks writing Serilog's compact JSON (one event per line, its
    /// properties as fields) instead of their text templates. A formatter cannot simply be added by configuration: with
    /// an <c>outputTemplate</c> also given, Serilog picks the sink's text overload and ignores it.
    /// </summary>
    private static IConfiguration AsJsonLogs(IConfiguration configuration)
    {
        var values = configuration.GetSection("Serilog").AsEnumerable()
            .Where(pair => pair.Value is not null && !pair.Key.EndsWith(":Args:outputTemplate", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(pair => pair.Key, pair => pair.Value);
        foreach (var sink in configuration.GetSection("Serilog:WriteTo").GetChildren())
        {
            if (sink["Name"] is "Console" or "File")
            {
                values[ConfigurationPath.Combine(sink.Path, "Args", "formatter")] = CompactJson;
            }
        }

        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }

    /// <summary>
    /// Resolves a relative <c>Serilog:WriteTo:*:Args:path</c> against the content root, not the working directory, so a
    /// published build started from anywhere writes <c>logs/</c> beside its configuration file.
    /// </summary>
    private static void AnchorLogFilePaths(IConfiguration configuration, string contentRoot)
    {
        foreach (var sink in configuration.GetSection("Serilog:WriteTo").GetChildren())
        {
            var key = ConfigurationPath.Combine(sink.Path, "Args", "path");
            var path = configuration[key];
            if (!string.IsNullOrEmpty(path) && !Path.IsPathRooted(path))
            {
                configuration[key] = Path.Combine(contentRoot, path);
            }
        }
    }

    public static WebApplication MapPortDashboard(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseSecurityHeaders();
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/Error", createScopeForErrors: true);
        }

        app.UseSerilogRequestLogging(options =>
        {
            options.Logger = app.Services.GetRequiredService<Serilog.ILogger>();

            options.GetLevel = RequestLogLevel;
        });
        // People get the not-found page; APIs, the hub and probes get problem details (re-executing a POST to the API
        // as the page would fail on the page's antiforgery check instead of saying 405).
        app.UseWhen(context => !PortDashboardSecurity.IsPage(context.Request.Path), api => api.UseStatusCodePages());
        app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
        app.Use((context, next) =>
        {
            if (!PortDashboardSecurity.IsPage(context.Request.Path) && context.Features.Get<IStatusCodePagesFeature>() is { } pages)
            {
                pages.Enabled = false;
            }

            return next(context);
        });
        app.UsePortDashboardSecurity();
        app.UseAntiforgery();

        // Static files are the same for everyone and hold no data; the probe must answer a container's health check.
        app.MapStaticAssets().AllowAnonymous();
        app.MapSignIn();
        app.MapSnapshotApi();
        app.MapHealthChecks(SnapshotHealthCheck.Path, SnapshotHealthCheck.EndpointOptions).AllowAnonymous();
        app.MapPortDashboardInsight();
        app.MapFleet();
        var hubSendTimeout = app.Services.GetRequiredService<IOptions<LimitsOptions>>().Value.HubSendTimeout;
        app.MapHub<SocketsHub>(SocketsHub.Path, hub => hub.TransportSendTimeout = hubSendTimeout);
        app.MapPortDashboardMetrics();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();

        app.Lifetime.ApplicationStarted.Register(() => LogStartupSummary(app));
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

    /// <summary>
    /// The start-up summary (the snapshot service logs its own configuration and the OS port policy): where the app
    /// listens, whether other machines can reach it, who may sign in, which reader it chose, its limits. Should an
    /// address beyond loopback be bound without credentials (a listener configured in code, which start-up validation
    /// cannot see), the app stops instead of serving it.
    /// </summary>
    private static void LogStartupSummary(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var exposed = addresses.Where(a => !Exposure.IsLoopback(a)).ToList();
        var auth = app.Services.GetRequiredService<IOptions<AuthOptions>>().Value;
        var limits = app.Services.GetRequiredService<IOptions<LimitsOptions>>().Value;
        var reader = app.Services.GetRequiredService<ISocketTableReader>();
        var access = (auth.Token is not null, auth.Users.Count) switch
        {
            (false, 0) => auth.AllowAnonymousRemote ? "no sign-in (PortDashboard:Auth:AllowAnonymousRemote)" : "no sign-in",
            (true, 0) => "sign-in with the bearer token",
            (false, var users) => $"sign-in as one of {users} users",
            (true, var users) => $"sign-in with the bearer token or as one of {users} users",
        };
        if (exposed.Count > 0 && !auth.Enabled && !auth.AllowAnonymousRemote)
        {
            app.Logger.LogCritical(
                "Listening on {Exposed}, which other machines can reach, with no credentials configured (PortDashboard:Auth); stopping",
                exposed);
            app.Lifetime.StopApplication();
            return;
        }

        app.Logger.Log(
            exposed.Count == 0 ? LogLevel.Information : LogLevel.Warning,
            "PortDashboard started: listening on {Addresses}, {Exposure}; {Access}; reader {Reader}{ReaderNote}; at most {HubConnections} hub connections and {RequestBodyBytes}-byte request bodies; metrics at {MetricsPath}",
            addresses,
            exposed.Count == 0 ? "loopback only" : $"reachable from other machines on {string.Join(", ", exposed)}",
            access,
            reader.Name,
            ReaderNote(reader),
            limits.HubConnections,
            limits.RequestBodyBytes,
            MetricsSetup.Path);
    }

    /// <summary>Why the host's reader is not the fastest, and whether other namespaces are read.</summary>
    private static string ReaderNote(ISocketTableReader reader)
    {
        var host = reader is NamespacedReader namespaced ? namespaced.Host : reader;
        var note = host is ReselectingReader { Note: { } why } ? $" ({why})" : "";
        return reader is NamespacedReader ? note + " and the other network namespaces' tables" : note;
    }
}
