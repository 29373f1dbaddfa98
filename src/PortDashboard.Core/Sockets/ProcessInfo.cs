namespace PortDashboard.Core.Sockets;

/// <summary>
/// A process that holds a socket. Identified by (<see cref="Pid"/>, <see cref="StartTime"/>) so a reused PID
/// is never mistaken for the process that held the socket before. One instance is shared by every socket the
/// process holds, and reused from snapshot to snapshot while the process lives (its name and uid are read once).
/// </summary>
/// <param name="Pid">Process id.</param>
/// <param name="StartTime">Start time in clock ticks since boot (field 22 of <c>/proc/&lt;pid&gt;/stat</c>).</param>
/// <param name="Name">The command name (<c>/proc/&lt;pid&gt;/comm</c>), or the executable's whole name when the kernel cut <c>comm</c> at 15 characters.</param>
/// <param name="Uid">The real uid (<c>/proc/&lt;pid&gt;/status</c>).</param>
/// <param name="UserName">The user name for <paramref name="Uid"/>, or the number when it has none.</param>
public sealed record ProcessInfo(int Pid, ulong StartTime, string Name, int Uid, string UserName)
{
    /// <summary>The full command line; filled only when configured, since it can hold secrets.</summary>
    public string? CommandLine { get; init; }

    /// <summary>
    /// The container or systemd unit the process runs in, named from <c>/proc/&lt;pid&gt;/cgroup</c>
    /// (<see cref="Reading.Namespaces.ContainerNames"/>: <c>docker:3f2a9c1b7d4e</c>, <c>nginx.service</c>); null when none.
    /// </summary>
    public string? Container { get; init; }

    public override string ToString() => $"{Name}[{Pid}]";
}
