using System.Globalization;
using MessagePack;
using PortDashboard.Core.Filtering;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;
using Endpoint = PortDashboard.Core.Sockets.Endpoint;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Api;

// The shapes sent by the HTTP API and the SignalR hub: camelCase JSON objects, or, to hub clients that choose the
// MessagePack protocol, arrays whose positions are the Key numbers below (a compact form: no property names on the
// wire). Documented in README.md, "API and hub". A Key number, once published, keeps its meaning: add new ones at the end.

/// <summary>One endpoint of a socket, with both facts about its port: IANA's range and the OS port policy.</summary>
/// <param name="Address">The address (<c>*</c> for a wildcard; IPv6 without brackets).</param>
/// <param name="Port">The port; 0 with address <c>*</c> means "no endpoint" (<c>*:*</c>).</param>
/// <param name="Range"><c>wellknown</c>, <c>registered</c> or <c>ephemeral</c>; null for <c>*:*</c>.</param>
/// <param name="OsEphemeral">Whether the kernel hands this port out as an ephemeral source port.</param>
/// <param name="Privileged">Whether binding this port needs privilege.</param>
/// <param name="Service">The service name for the port and protocol, if any.</param>
[MessagePackObject]
public sealed record EndpointDto(
    [property: Key(0)] string Address,
    [property: Key(1)] int Port,
    [property: Key(2)] string? Range,
    [property: Key(3)] bool OsEphemeral,
    [property: Key(4)] bool Privileged,
    [property: Key(5)] string? Service);

/// <summary>A process holding a socket.</summary>
/// <param name="Pid">Process id.</param>
/// <param name="Name">The command name.</param>
/// <param name="User">The user name (or the uid as text when it has none).</param>
/// <param name="CommandLine">The full command line, only when <c>PortDashboard:ShowCommandLine</c> is true.</param>
[MessagePackObject]
public sealed record OwnerDto(
    [property: Key(0)] int Pid,
    [property: Key(1)] string Name,
    [property: Key(2)] string User,
    [property: Key(3)] string? CommandLine);

/// <summary>Bytes queued in the kernel.</summary>
[MessagePackObject]
public sealed record QueuesDto([property: Key(0)] long Transmit, [property: Key(1)] long Receive);

/// <summary>
/// A TCP socket's internals (<c>struct tcp_info</c>) and its throughput since the previous poll. Null fields are
/// unknown, never zero: an older kernel's shorter struct, or a rate on the first poll or of a new connection.
/// </summary>
/// <param name="RttMs">Smoothed round-trip time, ms.</param>
/// <param name="RttVarMs">Its mean deviation, ms.</param>
/// <param name="CongestionWindow">Send congestion window, segments.</param>
/// <param name="Retransmits">Segments retransmitted over the connection's life.</param>
/// <param name="Lost">Segments currently thought lost.</param>
/// <param name="BytesAcked">Bytes sent and acknowledged.</param>
/// <param name="BytesReceived">Bytes received.</param>
/// <param name="BytesSent">Bytes sent, retransmits included.</param>
/// <param name="DeliveryRate">The kernel's delivery-rate estimate, bytes/s.</param>
/// <param name="ReceivedPerSecond">Bytes/s received since the previous poll.</param>
/// <param name="SentPerSecond">Bytes/s sent (acknowledged) since the previous poll.</param>
[MessagePackObject]
public sealed record TcpInfoDto(
    [property: Key(0)] double RttMs,
    [property: Key(1)] double RttVarMs,
    [property: Key(2)] long CongestionWindow,
    [property: Key(3)] long Retransmits,
    [property: Key(4)] long Lost,
    [property: Key(5)] ulong? BytesAcked,
    [property: Key(6)] ulong? BytesReceived,
    [property: Key(7)] ulong? BytesSent,
    [property: Key(8)] ulong? DeliveryRate,
    [property: Key(9)] double? ReceivedPerSecond,
    [property: Key(10)] double? SentPerSecond);

/// <summary>The latest tcp_info figures of one socket the client has, sent in a delta's <c>counters</c>.</summary>
[MessagePackObject]
public sealed record SocketCountersDto([property: Key(0)] string Id, [property: Key(1)] TcpInfoDto Tcp);

/// <summary>One process's throughput: the sum over its connections whose rate is known.</summary>
[MessagePackObject]
public sealed record ProcessTrafficDto(
    [property: Key(0)] int Pid,
    [property: Key(1)] string Name,
    [property: Key(2)] double ReceivedPerSecond,
    [property: Key(3)] double SentPerSecond,
    [property: Key(4)] int Connections);

/// <summary>The network namespace a socket lives in.</summary>
/// <param name="Inode">Its nsfs inode (<c>net:[inode]</c>); null when unknown (the host's, with namespace reading off).</param>
/// <param name="Name"><c>host</c> for the reader's own, the <c>/run/netns</c> name, else <c>net:[inode]</c>.</param>
[MessagePackObject]
public sealed record NamespaceDto([property: Key(0)] long? Inode, [property: Key(1)] string Name);

/// <summary>One socket. <paramref name="Id"/> is stable across snapshots (it is the <see cref="SocketKey"/>).</summary>
/// <param name="Tcp">TCP internals and throughput; null without them (UDP, TIME_WAIT, the /proc/net reader).</param>
/// <param name="FirstSeen">When the service first saw the socket; null when it has no record of it.</param>
/// <param name="SeenAtStart">The socket was already open when the service started: its real age is at least now − <paramref name="FirstSeen"/>.</param>
/// <param name="Netns">Its network namespace; null from a sender that predates namespaces (read as the host's).</param>
/// <param name="Container">Its owner's container or systemd unit, from the cgroup (<c>docker:3f2a9c1b7d4e</c>, <c>nginx.service</c>); null when none.</param>
[MessagePackObject]
public sealed record SocketDto(
    [property: Key(0)] string Id,
    [property: Key(1)] string Protocol,
    [property: Key(2)] string Family,
    [property: Key(3)] EndpointDto Local,
    [property: Key(4)] EndpointDto Remote,
    [property: Key(5)] string State,
    [property: Key(6)] long Inode,
    [property: Key(7)] int Uid,
    [property: Key(8)] IReadOnlyList<OwnerDto> Owners,
    [property: Key(9)] QueuesDto Queues,
    [property: Key(10)] TcpInfoDto? Tcp = null,
    [property: Key(11)] DateTimeOffset? FirstSeen = null,
    [property: Key(12)] bool SeenAtStart = false,
    [property: Key(13)] NamespaceDto? Netns = null,
    [property: Key(14)] string? Container = null);

/// <summary>How completely sockets were attributed to processes.</summary>
[MessagePackObject]
public sealed record AttributionDto(
    [property: Key(0)] string Completeness,
    [property: Key(1)] int ProcessesScanned,
    [property: Key(2)] int ProcessesSkipped,
    [property: Key(3)] string? Note);

/// <summary>The OS port policy the snapshot was classified with.</summary>
[MessagePackObject]
public sealed record PortPolicyDto(
    [property: Key(0)] int EphemeralFirst,
    [property: Key(1)] int EphemeralLast,
    [property: Key(2)] int UnprivilegedPortStart,
    [property: Key(3)] string Source);

/// <summary>How and when a snapshot was taken.</summary>
[MessagePackObject]
public sealed record SnapshotMetadataDto(
    [property: Key(0)] DateTimeOffset TakenAt,
    [property: Key(1)] double DurationMs,
    [property: Key(2)] string HostName,
    [property: Key(3)] string Reader,
    [property: Key(4)] AttributionDto Attribution,
    [property: Key(5)] PortPolicyDto PortPolicy,
    [property: Key(6)] int MalformedLines);

/// <summary>
/// A full view: the sockets of one snapshot that match <paramref name="Filter"/>. The hub's <c>Snapshot</c> message
/// and the body of <c>GET /api/snapshot</c>.
/// </summary>
/// <param name="Sequence">The sequence number of the last delta this snapshot includes (0 before the first).</param>
/// <param name="Filter">The filter applied, in its canonical query form (empty for none).</param>
/// <param name="Total">Sockets in the whole snapshot, before filtering.</param>
/// <param name="TopTalkers">
/// The busiest processes of the whole table (bytes/s since the previous poll, at most <see cref="WireMapper.TopTalkerCount"/>);
/// null when no rate is known (first poll, or a reader without tcp_info).
/// </param>
[MessagePackObject]
public sealed record SnapshotMessage(
    [property: Key(0)] long Sequence,
    [property: Key(1)] string Filter,
    [property: Key(2)] SnapshotMetadataDto Metadata,
    [property: Key(3)] int Total,
    [property: Key(4)] IReadOnlyList<SocketDto> Sockets,
    [property: Key(5)] IReadOnlyList<ProcessTrafficDto>? TopTalkers = null);

/// <summary>
/// What changed, for one subscription's filter, from sequence <paramref name="FromSequence"/> to
/// <paramref name="ToSequence"/> inclusive. Messages are contiguous: each one's <paramref name="FromSequence"/> is the
/// previous message's <paramref name="ToSequence"/> + 1 (or the <c>Snapshot</c>'s sequence + 1); anything else is a gap
/// and the client should subscribe again. Sent even when nothing matching changed.
/// </summary>
/// <param name="Added">Sockets that appeared, or that changed and now match the filter.</param>
/// <param name="Removed">Ids of sockets that disappeared, or that changed and no longer match.</param>
/// <param name="Changed">Sockets whose state or owners changed and still match.</param>
/// <param name="Counters">
/// Moving counters are no change (state and owners are): at most every 5 s (<see cref="Hubs.CounterUpdates.DefaultInterval"/>), a
/// delta carries the latest tcp_info of the matching connections that moved in the last poll, or had moved at the
/// previous such update (so a connection that went quiet is seen at 0 B/s). Null in the deltas between.
/// </param>
[MessagePackObject]
public sealed record DeltaMessage(
    [property: Key(0)] long FromSequence,
    [property: Key(1)] long ToSequence,
    [property: Key(2)] DateTimeOffset TakenAt,
    [property: Key(3)] IReadOnlyList<SocketDto> Added,
    [property: Key(4)] IReadOnlyList<string> Removed,
    [property: Key(5)] IReadOnlyList<SocketDto> Changed,
    [property: Key(6)] IReadOnlyList<SocketCountersDto>? Counters = null);

/// <summary>Turns Core's sockets and snapshots into the wire shapes.</summary>
/// <param name="ages">The service's first-seen times, for <see cref="SocketDto.FirstSeen"/>; null leaves it out.</param>
public sealed class WireMapper(ServiceNameRegistry services, bool showCommandLine, SocketAges? ages = null)
{
    public ServiceNameRegistry Services { get; } = services;

    /// <summary>
    /// The stable id of a socket: <c>tcp/127.0.0.1:5000/*:*/12345</c> (protocol/local/remote/inode), and for a socket of
    /// another network namespace its inode after an <c>@</c>: <c>tcp/127.0.0.1:80/*:*/12345@4026532281</c>.
    /// </summary>
    public static string Id(SocketKey key) => key.NetNs == 0
        ? string.Create(CultureInfo.InvariantCulture, $"{key.Protocol.ToQueryValue()}/{key.Local}/{key.Remote}/{key.Inode}")
        : string.Create(CultureInfo.InvariantCulture, $"{key.Protocol.ToQueryValue()}/{key.Local}/{key.Remote}/{key.Inode}@{key.NetNs}");

    /// <summary>The wire form of a namespace.</summary>
    public static NamespaceDto Namespace(NetNamespace netNamespace)
    {
        ArgumentNullException.ThrowIfNull(netNamespace);
        return new NamespaceDto(netNamespace.Inode == 0 ? null : netNamespace.Inode, netNamespace.Name);
    }

    /// <summary>Processes listed in a snapshot's top talkers.</summary>
    public const int TopTalkerCount = 10;

    /// <summary>The wire form of <paramref name="socket"/>; its rates from <paramref name="traffic"/> (unknown without).</summary>
    public SocketDto Socket(Socket socket, OsPortPolicy policy, TrafficRates? traffic = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(policy);
        SocketAge? age = ages is not null && ages.TryGet(socket.Key, out var known) ? known : null;
        var owners = new OwnerDto[socket.Owners.Length];
        for (var i = 0; i < owners.Length; i++)
        {
            var owner = socket.Owners[i];
            owners[i] = new OwnerDto(owner.Pid, owner.Name, owner.UserName, showCommandLine ? owner.CommandLine : null);
        }

        return new SocketDto(
            Id(socket.Key),
            socket.Protocol.ToQueryValue(),
            socket.Family == IpVersion.IPv4 ? "ipv4" : "ipv6",
            Endpoint(socket.Local, socket.Protocol, policy),
            Endpoint(socket.Remote, socket.Protocol, policy),
            socket.State.ToQueryValue(),
            socket.Inode,
            socket.Uid,
            owners,
            new QueuesDto(socket.TransmitQueue, socket.ReceiveQueue),
            Tcp(socket, traffic),
            age?.FirstSeen,
            age?.SeenAtStart ?? false,
            Namespace(socket.Namespace),
            socket.Container);
    }

    /// <summary>The wire form of a socket's tcp_info and rate; null when it has none.</summary>
    public static TcpInfoDto? Tcp(Socket socket, TrafficRates? traffic)
    {
        if (socket.Tcp is not { } tcp)
        {
            return null;
        }

        var rate = traffic?.Of(socket);
        return new TcpInfoDto(
            tcp.RttMilliseconds,
            tcp.RttVarianceMicroseconds / 1000.0,
            tcp.CongestionWindow,
            tcp.TotalRetransmits,
            tcp.Lost,
            tcp.BytesAcked,
            tcp.BytesReceived,
            tcp.BytesSent,
            tcp.DeliveryRate,
            rate?.ReceivedPerSecond,
            rate?.SentPerSecond);
    }

    /// <summary>The busiest processes of <paramref name="snapshot"/>; null when no rate is known.</summary>
    public static IReadOnlyList<ProcessTrafficDto>? TopTalkers(Snapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return snapshot.Traffic.ByProcess(snapshot, TopTalkerCount)?
            .Select(p => new ProcessTrafficDto(p.Pid, p.Name, p.Rate.ReceivedPerSecond, p.Rate.SentPerSecond, p.Connections))
            .ToList();
    }

    /// <summary>The sockets of <paramref name="snapshot"/> that match <paramref name="filter"/>, with the snapshot's metadata.</summary>
    public SnapshotMessage Snapshot(Snapshot snapshot, long sequence, Filter filter)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(filter);
        var sockets = new List<SocketDto>(filter.IsEmpty ? snapshot.Count : 16);
        foreach (var socket in snapshot.Sockets)
        {
            if (Matches(filter, socket, snapshot.PortPolicy))
            {
                sockets.Add(Socket(socket, snapshot.PortPolicy, snapshot.Traffic));
            }
        }

        return new SnapshotMessage(sequence, filter.ToQueryString(), Metadata(snapshot), snapshot.Count, sockets, TopTalkers(snapshot));
    }

    /// <summary>The name of the host whose table this mapper maps (<c>host=</c>); null: any host= matches it.</summary>
    public string? LocalHost { get; init; }

    /// <summary>Whether <paramref name="socket"/> is in <paramref name="filter"/>'s view (service names included; OS classes by <paramref name="policy"/>).</summary>
    public bool Matches(Filter filter, Socket socket, OsPortPolicy policy) =>
        filter.IsEmpty || ((LocalHost is null || filter.MatchesHost(LocalHost)) && filter.Matches(socket, Services, policy));

    public SnapshotMetadataDto Metadata(Snapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var attribution = snapshot.Attribution;
        var policy = snapshot.PortPolicy;
        return new SnapshotMetadataDto(
            snapshot.TakenAt,
            snapshot.Duration.TotalMilliseconds,
            snapshot.HostName,
            snapshot.Reader,
            new AttributionDto(
                attribution.Completeness.ToString().ToLowerInvariant(),
                attribution.ProcessesScanned,
                attribution.ProcessesSkipped,
                attribution.Note),
            new PortPolicyDto(policy.EphemeralFirst, policy.EphemeralLast, policy.UnprivilegedPortStart, policy.Source),
            snapshot.MalformedLines);
    }

    private EndpointDto Endpoint(Endpoint endpoint, TransportProtocol protocol, OsPortPolicy policy)
    {
        var address = endpoint.Address.IsWildcard ? "*" : endpoint.Address.ToString();
        if (endpoint.IsUnspecified)
        {
            return new EndpointDto(address, 0, null, false, false, null);
        }

        var classification = policy.Classify(endpoint.Port);
        return new EndpointDto(
            address,
            endpoint.Port,
            classification.Range.ToQueryValue(),
            classification.IsOsEphemeral,
            classification.IsPrivileged,
            Services.Lookup(endpoint.Port, protocol));
    }
}
