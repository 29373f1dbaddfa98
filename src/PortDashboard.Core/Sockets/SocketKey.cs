namespace PortDashboard.Core.Sockets;

/// <summary>
/// What identifies a socket across snapshots. In TIME_WAIT the inode is 0, but the TCP four-tuple is then unique
/// on its own; for every other socket the inode tells apart sockets sharing endpoints (SO_REUSEPORT listeners).
/// </summary>
public readonly record struct SocketKey(TransportProtocol Protocol, Endpoint Local, Endpoint Remote, long Inode)
{
    // Written out rather than generated: the generated members go through EqualityComparer<T>.Default field by field,
    // and sockets without an inode (TIME_WAIT, tens of thousands under churn) are indexed by this key at every poll.
    public bool Equals(SocketKey other) =>
        Inode == other.Inode && Local.Port == other.Local.Port && Remote.Port == other.Remote.Port && Protocol == other.Protocol
        && Local.Address == other.Local.Address && Remote.Address == other.Remote.Address;

    public override int GetHashCode() =>
        HashCode.Combine(Local.Port | (Remote.Port << 16), Local.Address, Remote.Address, Inode, (int)Protocol);
}
