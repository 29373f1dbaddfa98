using System.Collections.Immutable;

namespace PortDashboard.Core.Sockets;

/// <summary>One row of the socket table. Immutable once it is part of a <see cref="Snapshot"/>.</summary>
public sealed class Socket
{
    public Socket(
        TransportProtocol protocol,
        IpVersion family,
        Endpoint local,
        Endpoint remote,
        SocketState state,
        long inode,
        int uid,
        long transmitQueue = 0,
        long receiveQueue = 0,
        ImmutableArray<ProcessInfo> owners = default,
        TcpInfo? tcp = null,
        NetNamespace? netNamespace = null)
    {
        Protocol = protocol;
        Family = family;
        Local = local;
        Remote = remote;
        State = state;
        Inode = inode;
        Uid = uid;
        TransmitQueue = transmitQueue;
        ReceiveQueue = receiveQueue;
        Owners = owners.IsDefault ? [] : owners;
        Tcp = tcp;
        Namespace = netNamespace ?? NetNamespace.Host;
    }

    public TransportProtocol Protocol { get; }

    public IpVersion Family { get; }

    public Endpoint Local { get; }

    public Endpoint Remote { get; }

    public SocketState State { get; }

    /// <summary>The kernel's socket inode; 0 for TIME_WAIT and other sockets no file refers to.</summary>
    public long Inode { get; }

    /// <summary>The uid that created the socket, as the kernel reports it.</summary>
    public int Uid { get; }

    public long TransmitQueue { get; }

    public long ReceiveQueue { get; }

    /// <summary>The processes holding this socket (several after fork or with SO_REUSEPORT; none in TIME_WAIT).</summary>
    public ImmutableArray<ProcessInfo> Owners { get; private set; }

    /// <summary>
    /// The kernel's TCP internals (rtt, cwnd, retransmits, byte counters), when the reader asked for them (netlink);
    /// null for UDP, for TIME_WAIT and for a table read from /proc/net, which has none: unknown, not zero.
    /// </summary>
    public TcpInfo? Tcp { get; }

    /// <summary>The network namespace the socket lives in (<see cref="NetNamespace.Host"/> unless namespaces are read).</summary>
    public NetNamespace Namespace { get; private set; }

    /// <summary>
    /// The container (or systemd unit) of the socket's first owner that has one, from its cgroup; without an owner,
    /// the container of the namespace's processes; null when none is known.
    /// </summary>
    public string? Container
    {
        get
        {
            foreach (var owner in Owners)
            {
                if (owner.Container is { } container)
                {
                    return container;
                }
            }

            return Namespace.Container;
        }
    }

    public SocketKey Key => new(Protocol, Local, Remote, Inode, Namespace.KeyInode);

    /// <summary>A copy holding other owners; everything else is shared.</summary>
    public Socket WithOwners(ImmutableArray<ProcessInfo> owners) =>
        new(Protocol, Family, Local, Remote, State, Inode, Uid, TransmitQueue, ReceiveQueue, owners, Tcp, Namespace);

    /// <summary>Tags a socket that is not yet published in a snapshot with its namespace (avoids a copy per socket).</summary>
    internal void AttachNamespace(NetNamespace netNamespace)
    {
        if (IsPublished)
        {
            throw new InvalidOperationException($"{this} is part of a snapshot already: it cannot move to {netNamespace}");
        }

        Namespace = netNamespace;
    }

    /// <summary>Sets owners on a socket that is not yet published in a snapshot (avoids a copy per socket).</summary>
    internal void AttachOwners(ImmutableArray<ProcessInfo> owners)
    {
        if (IsPublished)
        {
            throw new InvalidOperationException($"{this} is part of a snapshot already: copy it with other owners instead");
        }

        Owners = owners.IsDefault ? [] : owners;
    }

    /// <summary>Set once the socket is part of a snapshot: it is shared from then on, and other owners need a copy.</summary>
    internal bool IsPublished { get; private set; }

    internal void MarkPublished() => IsPublished = true;

    /// <summary>
    /// Whether state or owners differ (the socket's key being equal). Counters (<see cref="Tcp"/>) and queues are not
    /// compared: they move on every active connection at every poll, and a delta carrying them would grow with the
    /// traffic instead of the churn. They travel in each snapshot (<see cref="Snapshot.Traffic"/> gives the rates).
    /// </summary>
    public bool DiffersFrom(Socket other)
    {
        if (State != other.State || Owners.Length != other.Owners.Length)
        {
            return true;
        }

        for (var i = 0; i < Owners.Length; i++)
        {
            var (a, b) = (Owners[i], other.Owners[i]);
            if (!ReferenceEquals(a, b) && (a.Pid != b.Pid || a.StartTime != b.StartTime))
            {
                return true;
            }
        }

        return false;
    }

    public override string ToString() =>
        $"{Protocol.ToDisplayName()} {Local} -> {Remote} {State.ToDisplayName()} inode={Inode} netns={Namespace} owners=[{string.Join(",", Owners)}]";
}
