using PortDashboard.Hosting;
using PortDashboard.Security;
using Serilog;

// Commands that do not start the app: hash a password for PortDashboard:Auth:Users, probe a running app's health.
if (HashPasswordCommand.Matches(args))
{
    return HashPasswordCommand.Run(args);
}

if (HealthProbe.Matches(args))
{
    return await HealthProbe.RunAsync(args, Console.Out);
}

// Logs start-up until the app's own logger (configured from appsettings.json) takes over.
Log.Logger = new LoggerConfiguration()
    .WriteTo.Console(formatProvider: System.Globalization.CultureInfo.InvariantCulture)
    .CreateBootstrapLogger();

try
{
    // The agent role: headless, no web server (PortDashboard agent, or PortDashboard:Role=agent).
    if (PortDashboard.Fleet.AgentCommand.Matches(args))
    {
        return await PortDashboard.Fleet.AgentCommand.RunAsync(args);
    }

    var builder = WebApplication.CreateBuilder(PortDashboardHosting.Options(args));
    builder.AddPortDashboard();
    var app = builder.Build();
    app.MapPortDashboard();
    app.Run();
    return 0;
}
catch (Microsoft.Extensions.Options.OptionsValidationException e)
{
    Log.Fatal("PortDashboard cannot start: {Errors}", string.Join("; ", e.Failures));
    return 1;
}
catch (Exception e) when (e is not HostAbortedException)
{
    Log.Fatal(e, "PortDashboard failed to start or stopped unexpectedly: {Reason}", e.Message);
    return 1;
}
finally
{
    Log.CloseAndFlush();
}

/// <summary>The entry point, visible to the web tests' <c>WebApplicationFactory&lt;Program&gt;</c>.</summary>
public partial class Program;
