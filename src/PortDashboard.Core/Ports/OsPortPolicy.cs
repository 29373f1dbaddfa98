namespace PortDashboard.Core.Ports;

/// <summary>
/// What the kernel actually does with ports: the range it hands out as ephemeral source ports
/// (<c>net.ipv4.ip_local_port_range</c>) and the first port an unprivileged process may bind
/// (<c>net.ipv4.ip_unprivileged_port_start</c>).
/// </summary>
public sealed record OsPortPolicy(int EphemeralFirst, int EphemeralLast, int UnprivilegedPortStart)
{
    /// <summary>Linux's defaults, used when the sysctl files cannot be read.</summary>
    public static OsPortPolicy LinuxDefault { get; } = new(32768, 60999, 1024);

    /// <summary>Where the values came from: a path, or a note that defaults were used.</summary>
    public string Source { get; init; } = "Linux defaults";

    public int EphemeralRangeSize => EphemeralLast - EphemeralFirst + 1;

    public bool IsOsEphemeral(int port) => port >= EphemeralFirst && port <= EphemeralLast;

    /// <summary>Whether binding the port needs privilege (CAP_NET_BIND_SERVICE). Port 0 means "any" and needs none.</summary>
    public bool IsPrivileged(int port) => port > 0 && port < UnprivilegedPortStart;

    public PortClassification Classify(int port) =>
        new(PortRanges.Classify(port), IsOsEphemeral(port), IsPrivileged(port));

    public override string ToString() =>
        $"ephemeral {EphemeralFirst}–{EphemeralLast} ({EphemeralRangeSize} ports), privileged below {UnprivilegedPortStart}";
}
