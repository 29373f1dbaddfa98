using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace PortDashboard.Tests.Support;

/// <summary>
/// The real app on a real Kestrel port (an ephemeral port on loopback), with a short poll interval.
/// Settings override appsettings keys; <paramref name="services"/> replaces services (a fake reader, a clock).
/// </summary>
public sealed class PortDashboardFactory : WebApplicationFactory<Program>
{
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;
    private readonly string _ownHistory = Path.Combine(Path.GetTempPath(), $"portdashboard-history-{Guid.NewGuid():N}.db");

    public PortDashboardFactory(IReadOnlyDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        var merged = new Dictionary<string, string?>
        {
            ["PortDashboard:PollInterval"] = "00:00:00.200",
            ["PortDashboard:MinimumBatchInterval"] = "00:00:00.050",
            ["PortDashboard:History:Path"] = _ownHistory, // each app its own history file, deleted with it
            ["PortDashboard:ReverseDns:Enabled"] = "false", // no DNS off the machine: names are tested with a fake resolver
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            merged[key] = value;
        }

        _settings = merged;
        _services = services;
        UseKestrel(0);
    }

    /// <summary>Starts the server and returns its base address (http://127.0.0.1:port/).</summary>
    public Uri Start()
    {
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return new Uri(addresses.First());
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        foreach (var file in new[] { _ownHistory, _ownHistory + "-wal", _ownHistory + "-shm" })
        {
            File.Delete(file);
        }

        GC.SuppressFinalize(this);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        if (_services is not null)
        {
            builder.ConfigureTestServices(_services);
        }
    }
}
