using System.Buffers.Binary;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Core.Reading.Netlink;

/// <summary>
/// Encodes sock_diag dump requests and decodes inet_diag_msg replies (linux/netlink.h, linux/inet_diag.h).
/// Netlink headers are in host byte order (little-endian on every platform .NET runs Linux on); ports and
/// addresses in the socket id are in network byte order.
/// </summary>
internal static class SockDiagMessages
{
    public const int NetlinkHeaderLength = 16;
    public const int RequestLength = NetlinkHeaderLength + 56; // nlmsghdr + inet_diag_req_v2
    public const int InetDiagMessageLength = 72;

    /// <summary>nlmsghdr + the older inet_diag_req (family, lengths, ext, id, states, dbs).</summary>
    public const int TcpCompatRequestLength = NetlinkHeaderLength + 60;

    /// <summary>TCPDIAG_GETSOCK: the request type older than SOCK_DIAG_BY_FAMILY; its dump walks TCP once for both families.</summary>
    public const ushort TcpDiagGetSock = 18;

    public const ushort NlmsgError = 2;
    public const ushort NlmsgDone = 3;
    public const ushort SockDiagByFamily = 20;
    public const ushort NlmFRequest = 0x01;
    public const ushort NlmFDump = 0x300;

    public const byte AfInet = 2;
    public const byte AfInet6 = 10;
    public const byte IpProtoTcp = 6;
    public const byte IpProtoUdp = 17;

    /// <summary>The INET_DIAG_INFO attribute (struct tcp_info), and its bit in a request's <c>idiag_ext</c> (1 &lt;&lt; (type - 1)).</summary>
    public const ushort InetDiagInfo = 2;
    public const byte InetDiagInfoExtension = 1 << (InetDiagInfo - 1);

    /// <summary>
    /// The shortest tcp_info decoded: up to <c>tcpi_total_retrans</c> (every kernel since 2.6); a shorter attribute is
    /// skipped. Later fields are read when the kernel's struct is long enough for them.
    /// </summary>
    public const int TcpInfoMinimumLength = 104;

    /// <summary>Writes a SOCK_DIAG_BY_FAMILY dump request for every state of one family and protocol.</summary>
    /// <param name="withTcpInfo">Asks for INET_DIAG_INFO (struct tcp_info) after each TCP socket's message, as <c>ss -i</c> does.</param>
    public static void WriteDumpRequest(Span<byte> buffer, byte family, byte protocol, uint sequence, bool withTcpInfo = false)
    {
        var request = WriteDumpHeader(buffer, RequestLength, SockDiagByFamily, sequence);
        request[0] = family;
        request[1] = protocol;
        request[2] = withTcpInfo && protocol == IpProtoTcp ? InetDiagInfoExtension : (byte)0;
        BinaryPrimitives.WriteUInt32LittleEndian(request[4..], uint.MaxValue); // every state
        // The socket id stays zero (no filter); its cookie must say "no cookie".
        BinaryPrimitives.WriteUInt32LittleEndian(request[48..], uint.MaxValue);
        BinaryPrimitives.WriteUInt32LittleEndian(request[52..], uint.MaxValue);
    }

    /// <summary>Clears <paramref name="length"/> bytes and writes a dump request's netlink header; returns the request body.</summary>
    private static Span<byte> WriteDumpHeader(Span<byte> buffer, int length, ushort type, uint sequence)
    {
        buffer[..length].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)length);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[6..], NlmFRequest | NlmFDump);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[8..], sequence);
        return buffer[NetlinkHeaderLength..length];
    }

    /// <summary>
    /// Writes a TCPDIAG_GETSOCK dump request for every TCP socket, IPv4 and IPv6 in one walk of the kernel's hash tables
    /// (the kernel runs it with the family unspecified: net/ipv4/inet_diag.c, inet_diag_dump_compat), every state.
    /// SOCK_DIAG_BY_FAMILY needs one dump per family, and each walks every TCP socket of both families.
    /// </summary>
    public static void WriteTcpCompatDumpRequest(Span<byte> buffer, uint sequence, bool withTcpInfo = false)
    {
        var request = WriteDumpHeader(buffer, TcpCompatRequestLength, TcpDiagGetSock, sequence);
        request[3] = withTcpInfo ? InetDiagInfoExtension : (byte)0; // inet_diag_req's idiag_ext
        BinaryPrimitives.WriteUInt32LittleEndian(request[44..], uint.MaxValue); // no cookie
        BinaryPrimitives.WriteUInt32LittleEndian(request[48..], uint.MaxValue);
        BinaryPrimitives.WriteUInt32LittleEndian(request[52..], uint.MaxValue); // every state
    }

    /// <summary>
    /// Writes a SOCK_DIAG_BY_FAMILY request for the one socket with <paramref name="socket"/>'s endpoints (no dump): the
    /// kernel answers with that socket's inet_diag_msg, or an error (ENOENT) when there is none.
    /// </summary>
    public static void WriteLookupRequest(Span<byte> buffer, Socket socket, uint sequence)
    {
        var family = socket.Family == IpVersion.IPv6 ? AfInet6 : AfInet;
        var protocol = socket.Protocol == TransportProtocol.Udp ? IpProtoUdp : IpProtoTcp;
        WriteDumpRequest(buffer, family, protocol, sequence, withTcpInfo: false);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[6..], NlmFRequest);
        // UDP's lookup takes the request's source as the packet's (the remote end): "swapped for historical reasons"
        // (net/ipv4/udp_diag.c). TCP's takes it as the socket's own.
        var (source, destination) = socket.Protocol == TransportProtocol.Udp ? (socket.Remote, socket.Local) : (socket.Local, socket.Remote);
        var id = buffer[(NetlinkHeaderLength + 8)..];
        BinaryPrimitives.WriteUInt16BigEndian(id, (ushort)source.Port);
        BinaryPrimitives.WriteUInt16BigEndian(id[2..], (ushort)destination.Port);
        source.Address.WriteBytes(id.Slice(4, 16));
        destination.Address.WriteBytes(id.Slice(20, 16));
    }

    /// <summary>The socket inode of an inet_diag_msg, or null when the message is too short.</summary>
    /// <summary>
    /// The socket's cookie (<c>idiag_cookie</c>, offset 44): the kernel's number for it, never reused while the machine
    /// runs. Unlike the inode it is still there when the kernel reports the socket destroyed.
    /// </summary>
    public static ulong ReadCookie(ReadOnlySpan<byte> message) => BinaryPrimitives.ReadUInt64LittleEndian(message[44..]);

    public static long? ReadInode(ReadOnlySpan<byte> message) =>
        message.Length < InetDiagMessageLength ? null : BinaryPrimitives.ReadUInt32LittleEndian(message[68..]);

    /// <summary>Decodes one inet_diag_msg into a Socket, matching what /proc/net reports for the same socket.</summary>
    public static Socket? DecodeSocket(ReadOnlySpan<byte> message, TransportProtocol protocol) => DecodeSocket(message, protocol, null);

    /// <summary>
    /// The tcp_info of an inet_diag_msg's INET_DIAG_INFO attribute, when it has one. Null when there is none (UDP,
    /// TIME_WAIT, a request without the extension), when the attribute is shorter than
    /// <see cref="TcpInfoMinimumLength"/>, or when an attribute's length runs past the message (the walk stops there):
    /// a bad attribute is skipped, the socket is kept. Fields past the end of an older kernel's shorter struct are null.
    /// </summary>
    public static TcpInfo? ReadTcpInfo(ReadOnlySpan<byte> message)
    {
        if (message.Length <= InetDiagMessageLength)
        {
            return null;
        }

        var attributes = message[InetDiagMessageLength..];
        while (attributes.Length >= 4)
        {
            var length = BinaryPrimitives.ReadUInt16LittleEndian(attributes);
            var type = BinaryPrimitives.ReadUInt16LittleEndian(attributes[2..]);
            if (length < 4 || length > attributes.Length)
            {
                return null; // a truncated attribute: nothing after it can be trusted either
            }

            if ((type & 0x3FFF) == InetDiagInfo) // without NLA_F_NESTED / NLA_F_NET_BYTEORDER
            {
                return DecodeTcpInfo(attributes[4..length]);
            }

            attributes = attributes[Math.Min((length + 3) & ~3, attributes.Length)..];
        }

        return null;
    }

    /// <summary>Decodes a struct tcp_info of any kernel's length (see <see cref="ReadTcpInfo"/>); null when too short.</summary>
    internal static TcpInfo? DecodeTcpInfo(ReadOnlySpan<byte> info)
    {
        if (info.Length < TcpInfoMinimumLength)
        {
            return null;
        }

        return new TcpInfo(
            RttMicroseconds: BinaryPrimitives.ReadUInt32LittleEndian(info[68..]),
            RttVarianceMicroseconds: BinaryPrimitives.ReadUInt32LittleEndian(info[72..]),
            CongestionWindow: BinaryPrimitives.ReadUInt32LittleEndian(info[80..]),
            TotalRetransmits: BinaryPrimitives.ReadUInt32LittleEndian(info[100..]),
            Lost: BinaryPrimitives.ReadUInt32LittleEndian(info[32..]),
            BytesAcked: ReadUInt64(info, 120),
            BytesReceived: ReadUInt64(info, 128),
            BytesSent: ReadUInt64(info, 200),
            DeliveryRate: ReadUInt64(info, 160));
    }

    private static ulong? ReadUInt64(ReadOnlySpan<byte> info, int offset) =>
        info.Length >= offset + 8 ? BinaryPrimitives.ReadUInt64LittleEndian(info[offset..]) : null;

    /// <summary>
    /// Decodes one inet_diag_msg; a socket of <paramref name="reuseFrom"/> with every field equal is returned instead of
    /// a new one (no allocation). Null when the message is too short.
    /// </summary>
    public static Socket? DecodeSocket(ReadOnlySpan<byte> message, TransportProtocol protocol, SnapshotCursor? reuseFrom, NetNamespace? netNamespace = null)
    {
        netNamespace ??= NetNamespace.Host;
        if (message.Length < InetDiagMessageLength)
        {
            return null;
        }

        var family = message[0] == AfInet6 ? IpVersion.IPv6 : IpVersion.IPv4;
        var kernelState = message[1];
        var id = message[4..];
        var sourcePort = BinaryPrimitives.ReadUInt16BigEndian(id);
        var destinationPort = BinaryPrimitives.ReadUInt16BigEndian(id[2..]);
        var source = ReadAddress(id.Slice(4, 16), family);
        var destination = ReadAddress(id.Slice(20, 16), family);
        var receiveQueue = BinaryPrimitives.ReadUInt32LittleEndian(message[56..]);
        var transmitQueue = BinaryPrimitives.ReadUInt32LittleEndian(message[60..]);
        var uid = BinaryPrimitives.ReadUInt32LittleEndian(message[64..]);
        var inode = BinaryPrimitives.ReadUInt32LittleEndian(message[68..]);

        var state = SocketStates.FromKernel(protocol, kernelState);
        if (state == SocketState.Listen)
        {
            // inet_diag reports a listener's backlog limit as its write queue; /proc/net shows 0 there.
            transmitQueue = 0;
        }

        var local = new Endpoint(source, sourcePort);
        var remote = new Endpoint(destination, destinationPort);
        var tcp = protocol == TransportProtocol.Tcp ? ReadTcpInfo(message) : null;

        // A socket whose counters moved is a new instance (the snapshot must show them), though not a changed socket
        // for the delta (Socket.DiffersFrom): an idle connection's counters stand still, so it is still reused.
        if (reuseFrom is not null && reuseFrom.TryGet(new SocketKey(protocol, local, remote, inode, netNamespace.KeyInode), out var before)
            && before.State == state && before.Family == family && before.Uid == (int)uid
            && before.TransmitQueue == transmitQueue && before.ReceiveQueue == receiveQueue && before.Tcp == tcp)
        {
            return before;
        }

        return new Socket(protocol, family, local, remote, state, inode, (int)uid, transmitQueue, receiveQueue, tcp: tcp, netNamespace: netNamespace);
    }

    private static NetAddress ReadAddress(ReadOnlySpan<byte> bytes, IpVersion family) =>
        family == IpVersion.IPv4 ? NetAddress.FromBytes(bytes[..4]) : NetAddress.FromBytes(bytes);
}
