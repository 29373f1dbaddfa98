using Microsoft.Extensions.Options;
using PortDashboard.Hosting;

namespace PortDashboard.Security;

/// <summary><c>PortDashboard:Limits</c>: how much one client may ask of the app.</summary>
public sealed class LimitsOptions
{
    public const string SectionName = PortDashboardOptions.SectionName + ":Limits";

    /// <summary>Hub connections (<c>/hubs/sockets</c>) open at once; one more is refused with a message.</summary>
    public int HubConnections { get; set; } = 100;

    /// <summary>The largest request body Kestrel accepts (sign-in forms, SignalR long-polling sends).</summary>
    public int RequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>The largest message a hub client may send (SignalR's <c>MaximumReceiveMessageSize</c>).</summary>
    public int HubMessageBytes { get; set; } = 32 * 1024;

    /// <summary>
    /// How long one send to a hub client may wait for the client's socket before the hub drops that connection
    /// (SignalR's <c>TransportSendTimeout</c>, whose default this is): a client that stops reading — a process stopped
    /// with SIGSTOP, a frozen browser tab — holds its buffers only this long. A client that reads slowly but within it
    /// is resynced instead (<c>PortDashboard:SubscriberBacklog</c>).
    /// </summary>
    public TimeSpan HubSendTimeout { get; set; } = TimeSpan.FromSeconds(10);

    internal List<string> BindingErrors { get; } = [];

    internal void Bind(IConfigurationSection section)
    {
        HubConnections = ConfigurationValues.ReadInt(section, nameof(HubConnections), HubConnections, BindingErrors);
        RequestBodyBytes = ConfigurationValues.ReadInt(section, nameof(RequestBodyBytes), RequestBodyBytes, BindingErrors);
        HubMessageBytes = ConfigurationValues.ReadInt(section, nameof(HubMessageBytes), HubMessageBytes, BindingErrors);
        HubSendTimeout = ConfigurationValues.ReadTimeSpan(section, nameof(HubSendTimeout), HubSendTimeout, BindingErrors);
    }
}

internal sealed class LimitsOptionsValidator : IValidateOptions<LimitsOptions>
{
    public ValidateOptionsResult Validate(string? name, LimitsOptions options)
    {
        var errors = new List<string>(options.BindingErrors);
        const string section = LimitsOptions.SectionName;
        if (options.HubConnections is < 1 or > 100_000)
        {
            errors.Add($"{section}:HubConnections is {options.HubConnections}; it must be from 1 to 100000");
        }

        if (options.RequestBodyBytes is < 4096 or > 100 * 1024 * 1024)
        {
            errors.Add($"{section}:RequestBodyBytes is {options.RequestBodyBytes}; it must be from 4096 to 104857600 (100 MiB)");
        }

        if (options.HubMessageBytes is < 1024 or > 1024 * 1024)
        {
            errors.Add($"{section}:HubMessageBytes is {options.HubMessageBytes}; it must be from 1024 to 1048576 (1 MiB)");
        }

        if (options.HubSendTimeout < TimeSpan.FromSeconds(1) || options.HubSendTimeout > TimeSpan.FromHours(1))
        {
            errors.Add($"{section}:HubSendTimeout is {options.HubSendTimeout}; it must be from 00:00:01 to 01:00:00");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
