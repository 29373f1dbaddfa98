using System.Buffers.Binary;
using System.Net.Sockets;
using PortDashboard.Core.Sockets;
using NetSocket = System.Net.Sockets.Socket;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Core.Reading.Netlink;

/// <summary>
/// Reads the socket table straight from the kernel with sock_diag (<c>SOCK_DIAG_BY_FAMILY</c> dumps of inet_diag,
/// as <c>ss</c> does): TCP and UDP, IPv4 and IPv6, every state, with uid and inode. Several times faster than
/// formatting and parsing <c>/proc/net</c> text. Not thread-safe: one caller drives it, reusing one netlink socket
/// and one receive buffer between polls.
/// </summary>
public sealed class NetlinkReader : IReusingSocketTableReader, ISocketLookup, IDisposable
{
    private const int ReceiveBufferSize = 256 * 1024;

    /// <summary>SOCK_DIAG_BY_FAMILY dumps, one per family and protocol; TCP's two are skipped when one TCPDIAG_GETSOCK dump did both.</summary>
    private static readonly (byte Family, byte Protocol, TransportProtocol Transport, string Source)[] PerFamilyDumps =
    [
        (SockDiagMessages.AfInet, SockDiagMessages.IpProtoTcp, TransportProtocol.Tcp, "netlink tcp"),
        (SockDiagMessages.AfInet6, SockDiagMessages.IpProtoTcp, TransportProtocol.Tcp, "netlink tcp6"),
        (SockDiagMessages.AfInet, SockDiagMessages.IpProtoUdp, TransportProtocol.Udp, "netlink udp"),
        (SockDiagMessages.AfInet6, SockDiagMessages.IpProtoUdp, TransportProtocol.Udp, "netlink udp6"),
    ];

    private readonly byte[] _request = new byte[Math.Max(SockDiagMessages.RequestLength, SockDiagMessages.TcpCompatRequestLength)];
    private readonly byte[] _buffer = new byte[ReceiveBufferSize];
    private NetSocket? _socket;
    private uint _sequence;
    private int _expectedSockets = 64;

    /// <summary>The destroy notifications, when <see cref="TracksClosures"/> and permitted; see <see cref="CollectClosedSinceRead"/>.</summary>
    private DestroyedCookies? _destroyed;
    private bool _destroyedTried;

    /// <summary>Set by the first <see cref="CollectClosedSinceRead"/>: a reader nobody asks (no attribution) keeps no cookies.</summary>
    private bool _closuresAsked;

    /// <summary>The cookie and inode of each socket with an inode in the last read, in dump order (kept only with <see cref="_destroyed"/>).</summary>
    private readonly List<(ulong Cookie, long Inode)> _cookies = [];

    /// <summary>Cookies reported destroyed since the last read began.</summary>
    private readonly HashSet<ulong> _destroyedCookies = [];
    private bool _destroyedComplete;

    /// <summary>
    /// Whether the reader subscribes to the kernel's socket-destroy notifications (needs CAP_NET_ADMIN) to tell which
    /// sockets of a read closed since (<see cref="CollectClosedSinceRead"/>). On by default; the subscription starts at
    /// the first read after the first question, so a reader used without attribution pays nothing for it.
    /// </summary>
    public bool TracksClosures { get; init; } = true;

    /// <summary>Why the destroy notifications could not be had, once tried and refused.</summary>
    public string? ClosureTrackingUnavailable { get; private set; }

    /// <summary>Whether TCP is read with one TCPDIAG_GETSOCK dump; off for good once the kernel refuses it.</summary>
    public bool TcpInOneWalk { get; init; } = true;

    private bool _tcpCompatRefused;

    /// <summary>
    /// Whether TCP dumps ask for INET_DIAG_INFO (struct tcp_info: rtt, cwnd, retransmits, byte counters), as
    /// <c>ss -i</c> does; <see cref="Socket.Tcp"/> stays null without it. On by default (docs/benchmarks.md has its cost).
    /// </summary>
    public bool ReadsTcpInfo { get; init; } = true;

    public string Name => "netlink";

    /// <summary>Opens the netlink socket: in this process's namespace, or (for another namespace) on a thread that joined it.</summary>
    private readonly Func<NetSocket> _open = Open;

    /// <summary>The namespace whose sockets this reader dumps (<see cref="NetNamespace.Host"/>: the one it runs in).</summary>
    private readonly NetNamespace _namespace = NetNamespace.Host;

    public NetlinkReader()
    {
    }

    /// <summary>
    /// A reader of another network namespace: <paramref name="open"/> makes a sock_diag socket inside it (a netlink
    /// socket answers for the namespace it was created in, whichever thread uses it later), and every socket read is
    /// tagged with <paramref name="netNamespace"/>. It tracks no closures (the destroy notifications are per namespace).
    /// </summary>
    internal NetlinkReader(Func<NetSocket> open, NetNamespace netNamespace)
    {
        _open = open;
        _namespace = netNamespace;
        TracksClosures = false;
    }

    public bool SupportsAttribution => true;

    /// <summary>
    /// Opens a sock_diag socket and runs one dump to prove the kernel answers; null (with the reason) when it
    /// does not (not Linux, no sock_diag, refused by a seccomp profile...).
    /// </summary>
    public static NetlinkReader? TryCreate(out string? whyNot)
    {
        if (!OperatingSystem.IsLinux())
        {
            whyNot = "netlink sock_diag exists only on Linux";
            return null;
        }

        var reader = new NetlinkReader();
        try
        {
            reader.Read();
            whyNot = null;
            return reader;
        }
        catch (Exception e) when (e is SocketException or IOException or DllNotFoundException or EntryPointNotFoundException or InvalidOperationException)
        {
            reader.Dispose();
            whyNot = e.Message;
            return null;
        }
    }

    public SocketTableRead Read(CancellationToken cancellationToken = default) =>
        Read(new List<Socket>(_expectedSockets + (_expectedSockets / 8)), null, cancellationToken);

    /// <inheritdoc/>
    public SocketTableRead ReadReusing(Snapshot previous, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(previous);
        _reused.Clear();
        return Read(_reused, previous, cancellationToken);
    }

    /// <summary>The list <see cref="ReadReusing"/> fills at every read: at 100k sockets a new one would be 1 MB of garbage a poll.</summary>
    private readonly List<Socket> _reused = [];

    /// <summary>What the current read reuses unchanged sockets from (null: none).</summary>
    private SnapshotCursor? _reuseFrom;

    private SocketTableRead Read(List<Socket> sockets, Snapshot? reuseFrom, CancellationToken cancellationToken)
    {
        var socket = _socket ??= _open();
        var malformed = new MalformedInput();
        _reuseFrom = reuseFrom is null ? null : new SnapshotCursor(reuseFrom);
        StartTrackingClosures();
        try
        {
            var tcpDone = TcpInOneWalk && !_tcpCompatRefused && TryDumpTcpInOneWalk(socket, sockets, malformed);
            foreach (var (family, protocol, transport, source) in PerFamilyDumps)
            {
                if (tcpDone && transport == TransportProtocol.Tcp)
                {
                    continue;
                }

                cancellationToken.ThrowIfCancellationRequested();
                var sequence = ++_sequence;
                SockDiagMessages.WriteDumpRequest(_request, family, protocol, sequence, ReadsTcpInfo);
                Dump(socket, _request.AsSpan(0, SockDiagMessages.RequestLength), sequence, SockDiagMessages.SockDiagByFamily, family, transport, source, sockets, malformed);
            }
        }
        catch
        {
            // A half-read dump leaves replies queued on the socket: start the next read on a fresh one.
            _socket = null;
            socket.Dispose();
            throw;
        }
        finally
        {
            _reuseFrom = null;
        }

        _expectedSockets = sockets.Count;
        return new SocketTableRead(sockets, malformed);
    }

    /// <summary>Why the kernel refused the one-walk TCP dump, when it did (the reader then dumps TCP per family).</summary>
    public string? TcpCompatRefusal { get; private set; }

    /// <summary>Dumps TCP of both families with one TCPDIAG_GETSOCK request; false (for good) when the kernel refuses it.</summary>
    private bool TryDumpTcpInOneWalk(NetSocket socket, List<Socket> into, MalformedInput malformed)
    {
        var sequence = ++_sequence;
        SockDiagMessages.WriteTcpCompatDumpRequest(_request, sequence, ReadsTcpInfo);
        try
        {
            Dump(socket, _request.AsSpan(0, SockDiagMessages.TcpCompatRequestLength), sequence, SockDiagMessages.TcpDiagGetSock, 0, TransportProtocol.Tcp, "netlink tcp", into, malformed);
            return true;
        }
        catch (SocketException e) when (into.Count == 0)
        {
            // A kernel without the older request (EINVAL, ENOENT, EOPNOTSUPP...): one dump per family from now on.
            _tcpCompatRefused = true;
            TcpCompatRefusal = e.Message;
            return false;
        }
    }

    /// <summary>Sends a dump <paramref name="request"/> numbered <paramref name="sequence"/> and reads the replies of <paramref name="replyType"/>.</summary>
    private void Dump(NetSocket socket, ReadOnlySpan<byte> request, uint sequence, ushort replyType, byte family, TransportProtocol transport, string source, List<Socket> into, MalformedInput malformed)
    {
        socket.Send(request);

        while (true)
        {
            var received = socket.Receive(_buffer);
            ReadOnlySpan<byte> data = _buffer.AsSpan(0, received);
            while (NextMessage(ref data, out var type, out var messageSequence, out var payload, out var badLength))
            {
                if (badLength is { } length)
                {
                    malformed.Add(source, $"netlink message length {length} outside the {data.Length} bytes received", default);
                    break;
                }

                if (messageSequence != sequence)
                {
                    continue; // a stale reply from an earlier, abandoned dump
                }

                switch (type)
                {
                    case SockDiagMessages.NlmsgDone:
                        return;
                    case SockDiagMessages.NlmsgError:
                        var error = payload.Length >= 4 ? -BinaryPrimitives.ReadInt32LittleEndian(payload) : 0;
                        if (error == 0)
                        {
                            continue; // an acknowledgement
                        }

                        if (error == 2 /* ENOENT */ && family == SockDiagMessages.AfInet6)
                        {
                            return; // no IPv6 in this kernel: an empty table, as a missing /proc/net/tcp6 is
                        }

                        throw new SocketException(error);
                    case var reply when reply == replyType:
                        var socketRow = SockDiagMessages.DecodeSocket(payload, transport, _reuseFrom, _namespace);
                        if (socketRow is null)
                        {
                            malformed.Add(source, $"inet_diag_msg of {payload.Length} bytes is shorter than {SockDiagMessages.InetDiagMessageLength}", payload);
                        }
                        else
                        {
                            into.Add(socketRow);
                            if (_destroyed is not null && socketRow.Inode != 0)
                            {
                                _cookies.Add((SockDiagMessages.ReadCookie(payload), socketRow.Inode));
                            }
                        }

                        break;
                    default:
                        break; // NLMSG_NOOP / overrun notices carry nothing for us
                }
            }
        }
    }

    /// <summary>
    /// Before a read: subscribes to the destroy notifications the first time, and drops those queued so far (sockets
    /// destroyed before the dump began are not in it).
    /// </summary>
    private void StartTrackingClosures()
    {
        if (TracksClosures && _closuresAsked && !_destroyedTried)
        {
            _destroyedTried = true;
            _destroyed = DestroyedCookies.TryOpen(out var whyNot);
            ClosureTrackingUnavailable = whyNot;
        }

        _cookies.Clear();
        _destroyedCookies.Clear();
        if (_destroyed is not null)
        {
            _destroyed.Drain(null); // a drop reported now was of notifications from before the read: harmless
            _destroyedComplete = true;
        }
    }

    /// <summary>
    /// Adds to <paramref name="inodes"/> the inode of each socket of the last read that the kernel has reported destroyed
    /// since the read began: a dump is not atomic, so a socket listed early may be closed, and its descriptor number
    /// taken by a new socket, before the dump ends. Cheap: it reads the notifications queued since, without blocking,
    /// and can be asked again for those that came meanwhile. False when this reader cannot tell (no permission, or the
    /// kernel dropped notifications): some closed sockets may then be missing.
    /// </summary>
    public bool CollectClosedSinceRead(ISet<long> inodes)
    {
        ArgumentNullException.ThrowIfNull(inodes);
        _closuresAsked = true;
        if (_destroyed is null)
        {
            return false;
        }

        var before = _destroyedCookies.Count;
        _destroyedComplete &= _destroyed.Drain(_destroyedCookies);
        if (_destroyedCookies.Count > before)
        {
            foreach (var (cookie, inode) in System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_cookies))
            {
                if (_destroyedCookies.Contains(cookie))
                {
                    inodes.Add(inode);
                }
            }
        }

        return _destroyedComplete;
    }

    /// <summary>
    /// Asks the kernel for the one socket with <paramref name="socket"/>'s protocol and endpoints (a request, not a dump:
    /// a hash lookup, microseconds) and compares its inode: false when there is none or another socket has them now.
    /// Null when the kernel's answer cannot be had (the caller then assumes it is open).
    /// </summary>
    public bool? IsOpen(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.Inode == 0)
        {
            return null;
        }

        var netlink = _socket ??= _open();
        var sequence = ++_sequence;
        SockDiagMessages.WriteLookupRequest(_request, socket, sequence);
        try
        {
            netlink.Send(_request.AsSpan(0, SockDiagMessages.RequestLength));
            while (true)
            {
                var received = netlink.Receive(_buffer);
                ReadOnlySpan<byte> data = _buffer.AsSpan(0, received);
                while (NextMessage(ref data, out var type, out var messageSequence, out var payload, out var badLength))
                {
                    if (badLength is not null)
                    {
                        return null;
                    }

                    if (messageSequence != sequence)
                    {
                        continue;
                    }

                    if (type == SockDiagMessages.NlmsgError)
                    {
                        var error = payload.Length >= 4 ? -BinaryPrimitives.ReadInt32LittleEndian(payload) : 0;
                        return error == 2 /* ENOENT */ ? false : null;
                    }

                    if (type == SockDiagMessages.SockDiagByFamily)
                    {
                        return SockDiagMessages.ReadInode(payload) is { } inode ? inode == socket.Inode : null;
                    }
                }
            }
        }
        catch (SocketException)
        {
            _socket = null;
            netlink.Dispose();
            return null;
        }
    }

    /// <summary>
    /// Takes the next netlink message off <paramref name="data"/>: false when no header is left; a length that does not
    /// fit is returned in <paramref name="badLength"/> (the rest of the datagram cannot be walked).
    /// </summary>
    internal static bool NextMessage(ref ReadOnlySpan<byte> data, out ushort type, out uint sequence, out ReadOnlySpan<byte> payload, out int? badLength)
    {
        (type, sequence, badLength) = (0, 0, null);
        payload = default;
        if (data.Length < SockDiagMessages.NetlinkHeaderLength)
        {
            return false;
        }

        var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(data);
        if (length < SockDiagMessages.NetlinkHeaderLength || length > data.Length)
        {
            badLength = length;
            return true;
        }

        type = BinaryPrimitives.ReadUInt16LittleEndian(data[4..]);
        sequence = BinaryPrimitives.ReadUInt32LittleEndian(data[8..]);
        payload = data[SockDiagMessages.NetlinkHeaderLength..length];
        data = data[Math.Min(Align(length), data.Length)..];
        return true;
    }

    private static int Align(int length) => (length + 3) & ~3;

    internal static NetSocket Open()
    {
        var fd = NetlinkNative.Socket(NetlinkNative.AfNetlink, NetlinkNative.SockRaw | NetlinkNative.SockCloexec, NetlinkNative.NetlinkSockDiag);
        if (fd < 0)
        {
            throw new SocketException(System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
        }

        NetSocket socket;
        try
        {
            socket = new NetSocket(new SafeSocketHandle(fd, ownsHandle: true));
        }
        catch
        {
            NetlinkNative.Close(fd);
            throw;
        }

        socket.ReceiveBufferSize = ReceiveBufferSize;
        socket.ReceiveTimeout = 5000; // the kernel answers in milliseconds; never hang a poll forever
        return socket;
    }

    public void Dispose()
    {
        _socket?.Dispose();
        _socket = null;
        _destroyed?.Dispose();
        _destroyed = null;
    }
}
