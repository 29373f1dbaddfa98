namespace PortDashboard.Core.Sockets;

/// <summary>
/// What identifies a socket across snapshots. In TIME_WAIT the inode is 0, but the TCP four-tuple is then unique
/// on its own; for every other socket the inode tells apart sockets sharing endpoints (SO_REUSEPORT listeners).
/// <paramref name="NetNs"/> is the network namespace's inode (<see cref="NetNamespace.KeyInode"/>: 0 for the host's): two
/// namespaces' TIME_WAIT sockets can have the same four-tuple, and a namespace's sockets must never be taken for the host's.
/// </summary>
public readonly record struct SocketKey(TransportProtocol Protocol, Endpoint Local, Endpoint Remote, long Inode, long NetNs = 0)
{
    // Written out rather than generated: the generated members go through EqualityComparer<T>.Default field by field,
    // and sockets without an inode (TIME_WAIT, tens of thousands under churn) are indexed by this key at every poll.
    public bool Equals(SocketKey other) =>
        Inode == other.Inode && NetNs == other.NetNs && Local.Port == other.Local.Port && Remote.Port == other.Remote.Port && Protocol == other.Protocol
        && Local.Address == other.Local.Address && Remote.Address == other.Remote.Address;

    public override int GetHashCode() =>
        HashCode.Combine(Local.Port | (Remote.Port << 16), Local.Address, Remote.Address, Inode ^ NetNs, (int)Protocol);
}
