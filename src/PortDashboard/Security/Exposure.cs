using System.Net;

namespace PortDashboard.Security;

/// <summary>
/// Where the app will listen, read from configuration the way Kestrel reads it (<c>Kestrel:Endpoints:*:Url</c>, else
/// <c>urls</c>, else <c>http_ports</c>/<c>https_ports</c>, else http://localhost:5000), and which of those addresses
/// other machines can reach. Known before Kestrel binds, so an exposed app without credentials never listens at all.
/// </summary>
public static class Exposure
{
    /// <summary>The addresses the app is configured to listen on.</summary>
    public static IReadOnlyList<string> ConfiguredAddresses(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var endpoints = configuration.GetSection("Kestrel:Endpoints").GetChildren()
            .Select(e => e["Url"])
            .OfType<string>()
            .Where(u => u.Length > 0)
            .ToList();
        if (endpoints.Count > 0)
        {
            return endpoints;
        }

        if (Split(configuration["urls"]) is { Count: > 0 } urls)
        {
            return urls;
        }

        var ports = Split(configuration["http_ports"]).Select(p => $"http://*:{p}")
            .Concat(Split(configuration["https_ports"]).Select(p => $"https://*:{p}"))
            .ToList();
        return ports.Count > 0 ? ports : ["http://localhost:5000"];
    }

    /// <summary>The configured addresses that other machines can reach.</summary>
    public static IReadOnlyList<string> ExposedAddresses(IConfiguration configuration) =>
        [.. ConfiguredAddresses(configuration).Where(a => !IsLoopback(a))];

    /// <summary>
    /// Whether a listen address (<c>http://127.0.0.1:5000</c>, <c>http://[::1]:80</c>, <c>http://localhost:5000</c>)
    /// is reachable from this machine only. Wildcards (<c>*</c>, <c>+</c>, <c>0.0.0.0</c>, <c>[::]</c>) and any
    /// other host name are not: Kestrel binds those to every interface.
    /// </summary>
    public static bool IsLoopback(string address)
    {
        ArgumentNullException.ThrowIfNull(address);

        // Uri cannot parse the wildcards Kestrel accepts; take the host between "://" and the port by hand.
        var hostStart = address.IndexOf("://", StringComparison.Ordinal);
        var host = hostStart < 0 ? address : address[(hostStart + 3)..];
        var pathStart = host.IndexOf('/', StringComparison.Ordinal);
        if (pathStart >= 0)
        {
            host = host[..pathStart];
        }

        if (host.StartsWith('['))
        {
            var close = host.IndexOf(']', StringComparison.Ordinal);
            host = close < 0 ? host : host[1..close];
        }
        else if (host.LastIndexOf(':') is var colon and >= 0)
        {
            host = host[..colon];
        }

        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
    }

    private static List<string> Split(string? value) =>
        string.IsNullOrWhiteSpace(value)
            ? []
            : [.. value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
}
