using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace PortDashboard.Security;

/// <summary>
/// Refuses a hub connection beyond <see cref="LimitsOptions.HubConnections"/> open at once: the client's connection
/// closes with a <see cref="HubException"/> message saying why. Applied to the public hub only, not to Blazor's circuits.
/// </summary>
public sealed class HubConnectionLimit(IOptions<LimitsOptions> limits, ILogger<HubConnectionLimit> logger) : IHubFilter
{
    private const string Counted = "PortDashboard.HubConnectionLimit.Counted";

    private readonly int _maximum = limits.Value.HubConnections;
    private int _open;

    /// <summary>Hub connections open now.</summary>
    public int Open => Volatile.Read(ref _open);

    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (Interlocked.Increment(ref _open) > _maximum)
        {
            Interlocked.Decrement(ref _open);
            logger.LogWarning(
                "Refused hub connection {ConnectionId}: {Maximum} hub connections are open (PortDashboard:Limits:HubConnections)",
                context.Context.ConnectionId, _maximum);
            throw new HubException($"too many connections: this server takes at most {_maximum} hub connections at once (PortDashboard:Limits:HubConnections); try again later");
        }

        context.Context.Items[Counted] = true;
        try
        {
            await next(context);
        }
        catch
        {
            context.Context.Items.Remove(Counted);
            Interlocked.Decrement(ref _open);
            throw;
        }
    }

    public async Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (context.Context.Items.Remove(Counted))
        {
            Interlocked.Decrement(ref _open);
        }

        await next(context, exception);
    }
}
