namespace PortDashboard.Core.Ports;

/// <summary>IANA's class of a port (RFC 6335 §6).</summary>
public enum PortRange : byte
{
    /// <summary>0–1023, IANA's "system ports".</summary>
    WellKnown,

    /// <summary>1024–49151, IANA's "user ports".</summary>
    Registered,

    /// <summary>49152–65535, IANA's "dynamic/private ports".</summary>
    Ephemeral,
}

/// <summary>IANA port classification.</summary>
public static class PortRanges
{
    public const int LastWellKnown = 1023;
    public const int LastRegistered = 49151;
    public const int LastPort = 65535;

    public static PortRange Classify(int port)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, LastPort);
        return port switch
        {
            <= LastWellKnown => PortRange.WellKnown,
            <= LastRegistered => PortRange.Registered,
            _ => PortRange.Ephemeral,
        };
    }

    /// <summary>The word used in URLs and the API: <c>wellknown</c>, <c>registered</c>, <c>ephemeral</c>.</summary>
    public static string ToQueryValue(this PortRange range) => range switch
    {
        PortRange.WellKnown => "wellknown",
        PortRange.Registered => "registered",
        PortRange.Ephemeral => "ephemeral",
        _ => throw new ArgumentOutOfRangeException(nameof(range)),
    };

    /// <summary>The label shown to people: Well-known, Registered, Ephemeral.</summary>
    public static string ToDisplayName(this PortRange range) => range switch
    {
        PortRange.WellKnown => "Well-known",
        PortRange.Registered => "Registered",
        PortRange.Ephemeral => "Ephemeral",
        _ => throw new ArgumentOutOfRangeException(nameof(range)),
    };
}
