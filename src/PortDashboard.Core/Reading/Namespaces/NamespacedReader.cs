using System.Net.Sockets;
using PortDashboard.Core.Reading.Netlink;
using PortDashboard.Core.Sockets;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Core.Reading.Namespaces;

/// <summary>How the sockets of the other network namespaces are read.</summary>
public enum NamespaceReaderKind
{
    /// <summary>sock_diag from inside the namespace when setns is permitted (with tcp_info), else its processes' /proc/&lt;pid&gt;/net.</summary>
    Auto,

    /// <summary>sock_diag on a socket made inside the namespace (setns: CAP_SYS_ADMIN); the only way into a namespace without processes.</summary>
    Netlink,

    /// <summary><c>/proc/&lt;pid&gt;/net/{tcp,tcp6,udp,udp6}</c> of one process inside it: no privilege beyond reading that process, no tcp_info.</summary>
    ProcNet,
}

/// <summary>What the table of one other namespace gave at the last read.</summary>
/// <param name="Reader"><c>netlink</c> or <c>proc-net</c>; null when it could not be read.</param>
/// <param name="Error">Why it was skipped (gone, permission denied...); null when it was read.</param>
public sealed record NamespaceRead(NetNamespace Namespace, string? Reader, int Sockets, string? Error);

/// <summary>
/// The host's reader, followed by the tables of every other network namespace (<see cref="NetworkNamespaces"/>), each
/// socket tagged with its <see cref="NetNamespace"/>. The host's sockets come from its reader as before (tagged with
/// the host's namespace and its real inode). A namespace that vanishes mid-read, refuses setns or whose process is
/// not ours to read is skipped for this read and said in <see cref="LastNamespaces"/>; it is never an error of the
/// whole read. Readers of namespaces no longer found are closed (a netlink socket keeps its namespace alive).
/// Not thread-safe, like the readers it wraps.
/// </summary>
public sealed class NamespacedReader : IReusingSocketTableReader, ISocketLookup, IDisposable
{
    private readonly ISocketTableReader _host;
    private readonly NetworkNamespaces _namespaces;
    private readonly NamespaceReaderKind _kind;
    private readonly bool _readsTcpInfo;
    private readonly Dictionary<long, Member> _members = [];
    private readonly Dictionary<long, Member> _byInode = [];
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly List<Socket> _lastForeign = [];
    private long? _lastForeignRead;
    private NetNamespace? _hostNamespace;
    private bool _setnsRefused;

    /// <param name="interval">
    /// How often the other namespaces are read: at every read when zero; otherwise a read within
    /// <paramref name="interval"/> of the last one gives their sockets as that one read them (each namespace dump walks
    /// the kernel's shared hash tables, so it costs about as much per namespace whatever the namespace holds).
    /// </param>
    public NamespacedReader(
        ISocketTableReader host,
        NetworkNamespaces namespaces,
        NamespaceReaderKind kind = NamespaceReaderKind.Auto,
        bool readsTcpInfo = true,
        TimeSpan interval = default,
        TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(namespaces);
        _host = host;
        _namespaces = namespaces;
        _kind = kind;
        _readsTcpInfo = readsTcpInfo;
        _interval = interval;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The host reader's name: namespaces are said per namespace in <see cref="LastNamespaces"/>.</summary>
    public string Name => _host.Name;

    public bool SupportsAttribution => _host.SupportsAttribution;

    /// <summary>The host reader this one wraps.</summary>
    public ISocketTableReader Host => _host;

    /// <summary>The other namespaces at the last read, with what each gave.</summary>
    public IReadOnlyList<NamespaceRead> LastNamespaces { get; private set; } = [];

    /// <summary>The host's namespace (its real inode) once a read has found it.</summary>
    public NetNamespace HostNamespace => _hostNamespace ?? NetNamespace.Host;

    public SocketTableRead Read(CancellationToken cancellationToken = default) => Read(null, cancellationToken);

    public SocketTableRead ReadReusing(Snapshot previous, CancellationToken cancellationToken = default) => Read(previous, cancellationToken);

    private SocketTableRead Read(Snapshot? previous, CancellationToken cancellationToken)
    {
        var read = previous is not null && _host is IReusingSocketTableReader reusing
            ? reusing.ReadReusing(previous, cancellationToken)
            : _host.Read(cancellationToken);

        var hostInode = _namespaces.HostInode();
        if (_hostNamespace is null || _hostNamespace.Inode != hostInode)
        {
            _hostNamespace = new NetNamespace(hostInode, NetNamespace.HostName, isHost: true);
        }

        Tag(read.Sockets, 0, _hostNamespace);

        if (_interval > TimeSpan.Zero && _lastForeignRead is { } last && _time.GetElapsedTime(last) < _interval)
        {
            read.Sockets.AddRange(_lastForeign); // the last read of the other namespaces (its malformed lines were counted then)
            return read;
        }

        var hostCount = read.Sockets.Count;
        var found = _namespaces.List(hostInode);
        var reads = new List<NamespaceRead>(found.Count);
        var seen = new HashSet<long>();
        _byInode.Clear();
        foreach (var ns in found)
        {
            cancellationToken.ThrowIfCancellationRequested();
            seen.Add(ns.Inode);
            var member = MemberFor(ns);
            var before = read.Sockets.Count;
            try
            {
                var table = member.Read(previous, cancellationToken);
                read.Sockets.AddRange(table.Sockets);
                read.Malformed.AddRange(table.Malformed);
                Tag(read.Sockets, before, member.Namespace);
                reads.Add(new NamespaceRead(member.Namespace, member.ReaderName, read.Sockets.Count - before, null));
                for (var i = before; i < read.Sockets.Count; i++)
                {
                    if (read.Sockets[i].Inode != 0)
                    {
                        _byInode.TryAdd(read.Sockets[i].Inode, member);
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or SocketException or InvalidOperationException)
            {
                read.Sockets.RemoveRange(before, read.Sockets.Count - before);
                reads.Add(new NamespaceRead(member.Namespace, null, 0, e.Message));
                member.Drop(); // the next read opens it again, if it is still there
            }
        }

        foreach (var inode in _members.Keys.Where(inode => !seen.Contains(inode)).ToList())
        {
            _members.Remove(inode, out var gone);
            gone!.Dispose();
        }

        LastNamespaces = reads;
        if (_interval > TimeSpan.Zero)
        {
            _lastForeign.Clear();
            _lastForeign.AddRange(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(read.Sockets)[hostCount..]);
            _lastForeignRead = _time.GetTimestamp();
        }

        return read;
    }

    /// <summary>Tags the sockets from <paramref name="from"/> on that are not yet published (reused ones carry their namespace already).</summary>
    private static void Tag(List<Socket> sockets, int from, NetNamespace netNamespace)
    {
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(sockets)[from..];
        foreach (var socket in span)
        {
            if (!socket.IsPublished && !ReferenceEquals(socket.Namespace, netNamespace))
            {
                socket.AttachNamespace(netNamespace);
            }
        }
    }

    private Member MemberFor(FoundNamespace ns)
    {
        var name = ns.DisplayName;
        if (_members.TryGetValue(ns.Inode, out var member)
            && member.Namespace.Name == name && member.Namespace.Container == ns.Container && (member.Found.Pid == ns.Pid || member.Found.RunName is not null))
        {
            return member;
        }

        member?.Dispose();
        member = new Member(this, ns, new NetNamespace(ns.Inode, name, container: ns.Container));
        _members[ns.Inode] = member;
        return member;
    }

    /// <summary>Asks the reader of the socket's namespace (the host's, or a namespace's netlink reader) when it can tell.</summary>
    public bool? IsOpen(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.Namespace.IsHost)
        {
            return (_host as ISocketLookup)?.IsOpen(socket);
        }

        return _byInode.TryGetValue(socket.Inode, out var member) ? member.IsOpen(socket) : null;
    }

    /// <summary>The host reader's closures (other namespaces' readers track none).</summary>
    public bool CollectClosedSinceRead(ISet<long> inodes) => (_host as ISocketLookup)?.CollectClosedSinceRead(inodes) ?? false;

    public void Dispose()
    {
        foreach (var member in _members.Values)
        {
            member.Dispose();
        }

        _members.Clear();
        (_host as IDisposable)?.Dispose();
    }

    /// <summary>One other namespace and the reader open on it.</summary>
    private sealed class Member(NamespacedReader owner, FoundNamespace found, NetNamespace netNamespace) : IDisposable
    {
        private ISocketTableReader? _reader;

        public FoundNamespace Found { get; } = found;

        public NetNamespace Namespace { get; } = netNamespace;

        public string? ReaderName => _reader?.Name;

        public SocketTableRead Read(Snapshot? previous, CancellationToken cancellationToken)
        {
            var reader = _reader ??= Open();
            return previous is not null && reader is IReusingSocketTableReader reusing
                ? reusing.ReadReusing(previous, cancellationToken)
                : reader.Read(cancellationToken);
        }

        public bool? IsOpen(Socket socket) => (_reader as ISocketLookup)?.IsOpen(socket);

        private ISocketTableReader Open()
        {
            var procRoot = owner._namespaces.ProcRoot;
            var wantsNetlink = owner._kind == NamespaceReaderKind.Netlink || (owner._kind == NamespaceReaderKind.Auto && !owner._setnsRefused);
            if (wantsNetlink || Found.Pid == 0)
            {
                var path = Found.Path(procRoot, owner._namespaces.RunNetnsDirectory);
                try
                {
                    // Opened here so that a refused setns falls back now; the reader reopens by the same path after a failure.
                    System.Net.Sockets.Socket? first = NamespaceNative.OpenSockDiagIn(path);
                    return new NetlinkReader(
                        () =>
                        {
                            var socket = first ?? NamespaceNative.OpenSockDiagIn(path);
                            first = null;
                            return socket;
                        },
                        Namespace)
                    {
                        ReadsTcpInfo = owner._readsTcpInfo,
                    };
                }
                catch (UnauthorizedAccessException) when (owner._kind == NamespaceReaderKind.Auto && Found.Pid != 0)
                {
                    owner._setnsRefused = true; // not permitted here: every namespace is read from /proc/<pid>/net from now on
                }
            }

            var root = Path.Combine(procRoot, Found.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (!ProcNetReader.IsAvailable(root))
            {
                throw new IOException($"{Path.Combine(root, "net", "tcp")} cannot be read (the process is gone, or not ours to read)");
            }

            return new ProcNetReader(root);
        }

        public void Drop()
        {
            (_reader as IDisposable)?.Dispose();
            _reader = null;
        }

        public void Dispose() => Drop();
    }
}
