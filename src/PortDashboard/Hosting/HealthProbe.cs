using System.Net;
using PortDashboard.Api;
using PortDashboard.Security;

namespace PortDashboard.Hosting;

/// <summary>
/// <c>PortDashboard healthcheck</c>: asks the running app's <c>/healthz</c> and exits 0 when it answers 200, else 1.
/// The container's HEALTHCHECK runs it (the runtime image has no curl): it reads the same configuration as the app
/// (appsettings.json, environment, command line) to find where the app listens; a wildcard address is asked on loopback.
/// </summary>
public static class HealthProbe
{
    public const string Name = "healthcheck";

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public static bool Matches(string[] args) => args is [Name, ..];

    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        var uri = HealthUri(Configuration(args[1..]));
        using var client = new HttpClient { Timeout = Timeout };
        try
        {
            using var response = await client.GetAsync(uri);
            var body = await response.Content.ReadAsStringAsync();
            await output.WriteLineAsync($"{uri}: {(int)response.StatusCode} {body}");
            return response.StatusCode == HttpStatusCode.OK ? 0 : 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            await output.WriteLineAsync($"{uri}: {e.Message}");
            return 1;
        }
    }

    /// <summary>The app's configuration in the order the web host layers it (later wins).</summary>
    public static IConfiguration Configuration(string[] args)
    {
        var contentRoot = PortDashboardHosting.Options(args).ContentRootPath ?? Directory.GetCurrentDirectory();
        return new ConfigurationBuilder()
            .AddEnvironmentVariables("ASPNETCORE_")
            .AddJsonFile(Path.Combine(contentRoot, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args)
            .Build();
    }

    /// <summary>The <c>/healthz</c> address of the first listen address; <c>*</c>, <c>+</c>, <c>0.0.0.0</c> and <c>[::]</c> become loopback.</summary>
    public static Uri HealthUri(IConfiguration configuration)
    {
        var address = Exposure.ConfiguredAddresses(configuration)[0];
        var normalized = address
            .Replace("://*", "://127.0.0.1", StringComparison.Ordinal)
            .Replace("://+", "://127.0.0.1", StringComparison.Ordinal)
            .Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal)
            .Replace("://[::]", "://[::1]", StringComparison.Ordinal);
        return new Uri(new Uri(normalized.TrimEnd('/') + "/"), SnapshotHealthCheck.Path.TrimStart('/'));
    }
}
