using Microsoft.AspNetCore.SignalR;
using PortDashboard.Core.Filtering;

namespace PortDashboard.Hubs;

/// <summary>
/// The live API for clients other than the pages. <c>Subscribe(filterQuery)</c> sends the caller a <c>Snapshot</c>
/// (the filtered table) and then <c>Delta</c> messages filtered on the server, numbered so a gap shows;
/// <c>Unsubscribe()</c> stops them. Message shapes: README.md, "API and hub". On a node with a fleet,
/// <c>SubscribeFleet(filterQuery)</c> does the same per remote host (<see cref="FleetHubSubscriptions"/>; README.md,
/// "Fleet: many hosts in one view").
/// </summary>
public sealed class SocketsHub(HubSubscriptions subscriptions, IServiceProvider provider) : Hub
{
    public const string Path = "/hubs/sockets";

    /// <summary>Client method receiving a <see cref="Api.SnapshotMessage"/>.</summary>
    public const string SnapshotMethod = "Snapshot";

    /// <summary>Client method receiving a <see cref="Api.DeltaMessage"/>.</summary>
    public const string DeltaMethod = "Delta";

    /// <summary>Client method receiving a <see cref="Api.FleetHostSnapshotMessage"/>.</summary>
    public const string FleetSnapshotMethod = "FleetSnapshot";

    /// <summary>Client method receiving a <see cref="Api.FleetHostDeltaMessage"/>.</summary>
    public const string FleetDeltaMethod = "FleetDelta";

    /// <summary>Client method receiving a <see cref="Api.FleetHostStatusMessage"/>.</summary>
    public const string FleetStatusMethod = "FleetStatus";

    /// <summary>
    /// Starts (or replaces) this connection's subscription. A bad filter fails with a <see cref="HubException"/>
    /// whose message is the filter's error. Returns the filter in its canonical query form.
    /// </summary>
    public async Task<string> Subscribe(string? filterQuery)
    {
        var filter = Parse(filterQuery);
        await subscriptions.StartAsync(Context.ConnectionId, filter);
        return filter.ToQueryString();
    }

    public Task Unsubscribe() => subscriptions.StopAsync(Context.ConnectionId);

    /// <summary>
    /// Starts (or replaces) this connection's fleet subscription, with the same filter grammar (<c>host=</c> picks the
    /// hosts). A bad filter, or a node without a fleet, fails with a <see cref="HubException"/> saying why. Returns the
    /// filter in its canonical query form.
    /// </summary>
    public async Task<string> SubscribeFleet(string? filterQuery)
    {
        var filter = Parse(filterQuery);
        await Fleet().StartAsync(Context.ConnectionId, filter);
        return filter.ToQueryString();
    }

    public Task UnsubscribeFleet() => Fleet().StopAsync(Context.ConnectionId);

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        await subscriptions.StopAsync(Context.ConnectionId);
        if (provider.GetService<FleetHubSubscriptions>() is { } fleet)
        {
            await fleet.StopAsync(Context.ConnectionId);
        }

        await base.OnDisconnectedAsync(exception);
    }

    private static Filter Parse(string? filterQuery)
    {
        try
        {
            return Filter.Parse(filterQuery);
        }
        catch (FilterException e)
        {
            throw new HubException(e.Message, e);
        }
    }

    private FleetHubSubscriptions Fleet() => provider.GetService<FleetHubSubscriptions>()
        ?? throw new HubException("This node has no fleet: set PortDashboard:Fleet:Redis to subscribe to remote hosts.");
}
