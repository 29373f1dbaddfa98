using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PortDashboard.Api;
using PortDashboard.Core.Ports;
using PortDashboard.Hosting;
using Serilog;

namespace PortDashboard.Fleet;

/// <summary>
/// The agent role: <c>PortDashboard agent</c> or <c>PortDashboard:Role=agent</c>. Headless: no web server, no
/// listening port. It reads the local table with the same snapshot service, readers and attribution as the dashboard
/// and publishes it to <c>PortDashboard:Fleet:Redis</c> (<see cref="FleetPublisher"/>).
/// </summary>
public static class AgentCommand
{
    public const string Name = "agent";

    public static bool Matches(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args is [Name, ..])
        {
            return true;
        }

        var root = PortDashboardHosting.Options(args).ContentRootPath ?? Directory.GetCurrentDirectory();
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(root, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args)
            .Build();
        return string.Equals(configuration[FleetOptions.RoleKey], Name, StringComparison.OrdinalIgnoreCase);
    }

    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var rest = args is [Name, .. var tail] ? tail : args;
        var web = PortDashboardHosting.Options(rest);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = rest, ContentRootPath = web.ContentRootPath });
        if (!FleetHosting.IsConfigured(builder.Configuration))
        {
            await Console.Error.WriteLineAsync($"The agent needs {FleetOptions.SectionName}:Redis (e.g. --{FleetOptions.SectionName}:Redis=127.0.0.1:6379 or a unix socket path): where to publish this host's table.");
            return 2;
        }

        var services = builder.Services;
        services.AddSerilog(
            (provider, logger) => logger.ReadFrom.Configuration(provider.GetRequiredService<IConfiguration>()).Enrich.FromLogContext(),
            preserveStaticLogger: true);
        services.AddOptions<PortDashboardOptions>()
            .Configure<IConfiguration>((options, configuration) => options.Bind(configuration.GetSection(PortDashboardOptions.SectionName)))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<PortDashboardOptions>, PortDashboardOptionsValidator>();
        services.TryAddSingleton(_ => ServiceNameRegistry.LoadDefault());
        services.AddSingleton(provider => new WireMapper(
            provider.GetRequiredService<ServiceNameRegistry>(),
            provider.GetRequiredService<IOptions<PortDashboardOptions>>().Value.ShowCommandLine));
        services.AddPortDashboardMonitoring();
        services.AddFleetCore(publish: true);
        using var host = builder.Build();
        await host.RunAsync();
        return 0;
    }
}
