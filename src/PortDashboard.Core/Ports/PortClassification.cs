namespace PortDashboard.Core.Ports;

/// <summary>
/// Both facts about a port, side by side: IANA's range and what this machine's kernel does with it.
/// 40000 is IANA-registered yet OS-ephemeral on a default Linux (32768–60999).
/// </summary>
public readonly record struct PortClassification(PortRange Range, bool IsOsEphemeral, bool IsPrivileged);
