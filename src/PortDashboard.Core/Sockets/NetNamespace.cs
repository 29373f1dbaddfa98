using System.Globalization;

namespace PortDashboard.Core.Sockets;

/// <summary>
/// The network namespace a socket lives in: its nsfs inode (<c>/proc/&lt;pid&gt;/ns/net</c> → <c>net:[4026531840]</c>)
/// and a display name: the <c>/run/netns</c> name when it has one (<c>ip netns add</c>), <c>host</c> for the
/// namespace the reader itself reads, else <c>net:[inode]</c>. One instance is shared by every socket of the namespace.
/// </summary>
public sealed class NetNamespace
{
    public NetNamespace(long inode, string name, bool isHost = false, string? container = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Inode = inode;
        Name = name;
        IsHost = isHost;
        Container = container;
    }

    /// <summary>
    /// The reader's own namespace when namespaces are not enumerated: inode unknown (0). Every socket read by the
    /// host's reader carries it unless namespace reading tags it with the real inode.
    /// </summary>
    public static NetNamespace Host { get; } = new(0, HostName, isHost: true);

    /// <summary>The display name of the namespace the reader itself reads.</summary>
    public const string HostName = "host";

    /// <summary>The nsfs inode; 0 when unknown (<see cref="Host"/> without namespace reading).</summary>
    public long Inode { get; }

    public string Name { get; }

    /// <summary>Whether this is the namespace the reader itself reads (the host's, or the container's it runs in).</summary>
    public bool IsHost { get; }

    /// <summary>
    /// The container of a process found inside it (from its cgroup), for sockets without an owner (TIME_WAIT); null
    /// for the host or when none is known.
    /// </summary>
    public string? Container { get; }

    /// <summary>
    /// What the namespace adds to a <see cref="SocketKey"/>: 0 for the host (so host sockets keep the ids they had
    /// before namespaces were read), the inode for any other.
    /// </summary>
    public long KeyInode => IsHost ? 0 : Inode;

    /// <summary><c>net:[4026532281]</c>, the kernel's own notation, for a namespace without a name.</summary>
    public static string InodeName(long inode) => string.Create(CultureInfo.InvariantCulture, $"net:[{inode}]");

    public override string ToString() => Name;
}
