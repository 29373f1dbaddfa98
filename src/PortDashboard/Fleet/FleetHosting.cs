using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using PortDashboard.Api;
using PortDashboard.Core.Filtering;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Reading;
using PortDashboard.Hosting;

namespace PortDashboard.Fleet;

/// <summary>The fleet's composition: what the agent role and a dashboard with <c>PortDashboard:Fleet:Redis</c> add.</summary>
public static class FleetHosting
{
    public static bool IsConfigured(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration[FleetOptions.SectionName + ":Redis"]);

    /// <summary>Options, the connection and the identity; the publisher when <paramref name="publish"/>.</summary>
    public static IServiceCollection AddFleetCore(this IServiceCollection services, bool publish)
    {
        services.AddOptions<FleetOptions>().BindConfiguration(FleetOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<FleetOptions>, FleetOptionsValidator>();
        services.AddSingleton<FleetConnection>();
        services.AddSingleton(provider => new FleetIdentity(
            provider.GetRequiredService<IOptions<FleetOptions>>().Value.HostName
                ?? Snapshotter.HostName(provider.GetRequiredService<IOptions<PortDashboardOptions>>().Value.ProcRoot),
            Guid.NewGuid().ToString("N")[..12]));
        if (publish)
        {
            services.AddSingleton<FleetPublisher>();
            services.AddHostedService(provider => provider.GetRequiredService<FleetPublisher>());
        }

        return services;
    }

    /// <summary>A dashboard with a fleet: the consumer, the store, /healthz's check.</summary>
    public static IServiceCollection AddFleetDashboard(this IServiceCollection services, IConfiguration configuration)
    {
        if (!IsConfigured(configuration))
        {
            return services;
        }

        services.AddFleetCore(configuration.GetValue<bool>(FleetOptions.SectionName + ":Publish"));
        services.AddSingleton<FleetStore>();
        services.AddSingleton<FleetMetrics>();
        services.AddSingleton<Hubs.FleetHubSubscriptions>();
        services.AddHostedService<FleetConsumer>();
        services.AddHealthChecks().AddCheck<FleetHealthCheck>("fleet");
        return services;
    }

    public static WebApplication MapFleet(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.Services.GetService<FleetStore>() is null)
        {
            return app;
        }

        _ = app.Services.GetRequiredService<FleetMetrics>(); // its gauges exist from the start
        var api = app.MapGroup("/api/fleet");
        api.MapGet("/hosts", (FleetStore store, FleetConnection connection) => Results.Json(new FleetHostsMessage(
            connection.IsConnected, connection.LastError, [.. store.Hosts.Values.Select(FleetHostDto.From)])));
        api.MapGet("/snapshot", (HttpContext context, FleetStore store, ServiceNameRegistry services) =>
            ParsedFilter(context, out var filter, out var problem) ? Results.Json(Snapshot(store, filter, services)) : problem);
        api.MapGet("/snapshot.csv", (HttpContext context, FleetStore store, ServiceNameRegistry services) =>
            ParsedFilter(context, out var filter, out var problem) ? Results.Text(Csv(store, filter, services), "text/csv; charset=utf-8") : problem);
        return app;
    }

    private static bool ParsedFilter(HttpContext context, out Filter filter, out IResult problem)
    {
        problem = Results.Empty;
        if (Filter.TryParse(context.Request.QueryString.Value, out filter, out var error))
        {
            return true;
        }

        problem = Results.Problem(title: "Invalid filter", detail: error!.Message, statusCode: StatusCodes.Status400BadRequest,
            extensions: new Dictionary<string, object?> { ["parameter"] = error.Parameter });
        return false;
    }

    private static FleetSnapshotMessage Snapshot(FleetStore store, Filter filter, ServiceNameRegistry services) =>
        new(filter.ToQueryString(), [.. store.Hosts.Values.Where(h => filter.MatchesHost(h.Name)).Select(h => new FleetHostSockets(
            h.Name, h.Status.ToString().ToLowerInvariant(), !h.IsLive, h.Sequence, h.Metadata, h.Sockets.Count,
            [.. h.Matching(filter, services).Select(s => s.Dto).OrderBy(s => s.Id, StringComparer.Ordinal)]))]);

    /// <summary>The fleet's CSV: a host and a stale column, then the socket's fields.</summary>
    private static string Csv(FleetStore store, Filter filter, ServiceNameRegistry services)
    {
        var csv = new StringBuilder("host,stale,id,protocol,local,remote,state,pids,names\r\n");
        foreach (var host in store.Hosts.Values)
        {
            foreach (var s in host.Matching(filter, services).Select(s => s.Dto).OrderBy(s => s.Id, StringComparer.Ordinal))
            {
                csv.Append(host.Name).Append(',').Append(host.IsLive ? "false" : "true").Append(',')
                    .Append(Quote(s.Id)).Append(',').Append(s.Protocol).Append(',')
                    .Append(Quote($"{s.Local.Address}:{s.Local.Port}")).Append(',').Append(Quote($"{s.Remote.Address}:{s.Remote.Port}")).Append(',')
                    .Append(s.State).Append(',').Append(string.Join(';', s.Owners.Select(o => o.Pid))).Append(',')
                    .Append(Quote(string.Join(';', s.Owners.Select(o => o.Name)))).Append("\r\n");
            }
        }

        return csv.ToString();
    }

    private static string Quote(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") < 0 ? value : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}

/// <summary>GET /api/fleet/hosts.</summary>
public sealed record FleetHostsMessage(bool RedisConnected, string? RedisError, IReadOnlyList<FleetHostDto> Hosts);

/// <summary>One host on /api/fleet/hosts and the /hosts page.</summary>
public sealed record FleetHostDto(
    string Name, string Status, DateTimeOffset? LastSeen, string? Reader, string? Attribution, IReadOnlyList<string> Instances,
    bool Duplicate, string? Instance, long Sequence, long Resyncs, FleetHostSummary Summary)
{
    public static FleetHostDto From(FleetHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        return new(host.Name, host.Status.ToString().ToLowerInvariant(), host.LastSeen, host.Metadata?.Reader ?? host.Beat?.Reader,
            host.Metadata?.Attribution.Completeness, host.Instances, host.Duplicate, host.Instance, host.Sequence, host.Resyncs, host.Summarize());
    }
}

/// <summary>GET /api/fleet/snapshot: per host its status and the sockets in the filter's view (stale: not live).</summary>
public sealed record FleetSnapshotMessage(string Filter, IReadOnlyList<FleetHostSockets> Hosts);

public sealed record FleetHostSockets(
    string Host, string Status, bool Stale, long Sequence, SnapshotMetadataDto? Metadata, int Total, IReadOnlyList<SocketDto> Sockets);

/// <summary>/healthz: degraded (still 200) while Redis is not usable or a host name is claimed twice; the local table decides the rest.</summary>
public sealed class FleetHealthCheck(FleetConnection connection, FleetStore store) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!connection.IsConnected)
        {
            return Task.FromResult(HealthCheckResult.Degraded($"fleet: {connection.LastError ?? "Redis is not connected"}"));
        }

        var duplicates = store.Hosts.Values.Where(h => h.Duplicate).Select(h => h.Name).ToList();
        return Task.FromResult(duplicates.Count > 0
            ? HealthCheckResult.Degraded($"fleet: host names claimed by two agents: {string.Join(", ", duplicates)}")
            : HealthCheckResult.Healthy($"fleet: {store.Hosts.Count} hosts"));
    }
}
