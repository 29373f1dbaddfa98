namespace PortDashboard.Core.Sockets;

/// <summary>The transport protocol of a socket.</summary>
public enum TransportProtocol : byte
{
    Tcp,
    Udp,
}

/// <summary>The address family a socket was opened with (an IPv6 socket may carry IPv4-mapped addresses).</summary>
public enum IpVersion : byte
{
    IPv4,
    IPv6,
}

/// <summary>
/// A socket's state. TCP states carry the kernel's numbers (include/net/tcp_states.h);
/// a UDP socket is <see cref="Unconnected"/> or <see cref="Established"/> (connected), as <c>ss</c> shows it.
/// </summary>
public enum SocketState : byte
{
    Unknown = 0,
    Established = 1,
    SynSent = 2,
    SynRecv = 3,
    FinWait1 = 4,
    FinWait2 = 5,
    TimeWait = 6,
    Close = 7,
    CloseWait = 8,
    LastAck = 9,
    Listen = 10,
    Closing = 11,
    NewSynRecv = 12,

    /// <summary>A UDP socket with no connected peer (the kernel reports TCP_CLOSE).</summary>
    Unconnected = 32,
}
