namespace PortDashboard.Core.Ports;

/// <summary>
/// What this machine's kernel does with a port (<see cref="OsPortPolicy"/>), as a filter names it beside IANA's
/// <see cref="PortRange"/>: <c>range=os-ephemeral,privileged</c>. A port can be in both, in either or in neither.
/// </summary>
public enum OsPortClass : byte
{
    /// <summary>Inside <c>net.ipv4.ip_local_port_range</c>: the kernel hands it out as a source port.</summary>
    Ephemeral,

    /// <summary>Below <c>net.ipv4.ip_unprivileged_port_start</c>: binding it needs CAP_NET_BIND_SERVICE.</summary>
    Privileged,
}

public static class OsPortClasses
{
    /// <summary>The word used in URLs and the API: <c>os-ephemeral</c>, <c>privileged</c>.</summary>
    public static string ToQueryValue(this OsPortClass value) => value switch
    {
        OsPortClass.Ephemeral => "os-ephemeral",
        OsPortClass.Privileged => "privileged",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    /// <summary>The label shown to people: OS ephemeral, Privileged.</summary>
    public static string ToDisplayName(this OsPortClass value) => value switch
    {
        OsPortClass.Ephemeral => "OS ephemeral",
        OsPortClass.Privileged => "Privileged",
        _ => throw new ArgumentOutOfRangeException(nameof(value)),
    };

    /// <summary>Whether <paramref name="port"/> is of class <paramref name="value"/> under <paramref name="policy"/>: the one definition pages, filters and API use.</summary>
    public static bool Holds(this OsPortPolicy policy, OsPortClass value, int port)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return value == OsPortClass.Ephemeral ? policy.IsOsEphemeral(port) : policy.IsPrivileged(port);
    }
}
