using Microsoft.AspNetCore.SignalR;
using PortDashboard.Core.Filtering;

namespace PortDashboard.Hubs;

/// <summary>
/// The live API for clients other than the pages. <c>Subscribe(filterQuery)</c> sends the caller a <c>Snapshot</c>
/// (the filtered table) and then <c>Delta</c> messages filtered on the server, numbered so a gap shows;
/// <c>Unsubscribe()</c> stops them. Message shapes: README.md, "API and hub".
/// </summary>
public sealed class SocketsHub(HubSubscriptions subscriptions) : Hub
{
    public const string Path = "/hubs/sockets";

    /// <summary>Client method receiving a <see cref="Api.SnapshotMessage"/>.</summary>
    public const string SnapshotMethod = "Snapshot";

    /// <summary>Client method receiving a <see cref="Api.DeltaMessage"/>.</summary>
    public const string DeltaMethod = "Delta";

    /// <summary>
    /// Starts (or replaces) this connection's subscription. A bad filter fails with a <see cref="HubException"/>
    /// whose message is the filter's error. Returns the filter in its canonical query form.
    /// </summary>
    public async Task<string> Subscribe(string? filterQuery)
    {
        Filter filter;
        try
        {
            filter = Filter.Parse(filterQuery);
        }
        catch (FilterException e)
        {
            throw new HubException(e.Message, e);
        }

        await subscriptions.StartAsync(Context.ConnectionId, filter);
        return filter.ToQueryString();
    }

    public Task Unsubscribe() => subscriptions.StopAsync(Context.ConnectionId);

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        await subscriptions.StopAsync(Context.ConnectionId);
        await base.OnDisconnectedAsync(exception);
    }
}
