namespace PortDashboard.Core.Sockets;

/// <summary>
/// What identifies a socket across snapshots. In TIME_WAIT the inode is 0, but the TCP four-tuple is then unique
/// on its own; for every other socket the inode tells apart sockets sharing endpoints (SO_REUSEPORT listeners).
/// </summary>
public readonly record struct SocketKey(TransportProtocol Protocol, Endpoint Local, Endpoint Remote, long Inode);
