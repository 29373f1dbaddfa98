using System.Globalization;
using PortDashboard.Core.Filtering;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;
using Endpoint = PortDashboard.Core.Sockets.Endpoint;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Api;

// The shapes sent by the HTTP API and the SignalR hub (camelCase JSON). Documented in README.md, "API and hub".

/// <summary>One endpoint of a socket, with both facts about its port: IANA's range and the OS port policy.</summary>
/// <param name="Address">The address (<c>*</c> for a wildcard; IPv6 without brackets).</param>
/// <param name="Port">The port; 0 with address <c>*</c> means "no endpoint" (<c>*:*</c>).</param>
/// <param name="Range"><c>wellknown</c>, <c>registered</c> or <c>ephemeral</c>; null for <c>*:*</c>.</param>
/// <param name="OsEphemeral">Whether the kernel hands this port out as an ephemeral source port.</param>
/// <param name="Privileged">Whether binding this port needs privilege.</param>
/// <param name="Service">The service name for the port and protocol, if any.</param>
public sealed record EndpointDto(string Address, int Port, string? Range, bool OsEphemeral, bool Privileged, string? Service);

/// <summary>A process holding a socket.</summary>
/// <param name="Pid">Process id.</param>
/// <param name="Name">The command name.</param>
/// <param name="User">The user name (or the uid as text when it has none).</param>
/// <param name="CommandLine">The full command line, only when <c>PortDashboard:ShowCommandLine</c> is true.</param>
public sealed record OwnerDto(int Pid, string Name, string User, string? CommandLine);

/// <summary>Bytes queued in the kernel.</summary>
public sealed record QueuesDto(long Transmit, long Receive);

/// <summary>One socket. <paramref name="Id"/> is stable across snapshots (it is the <see cref="SocketKey"/>).</summary>
public sealed record SocketDto(
    string Id,
    string Protocol,
    string Family,
    EndpointDto Local,
    EndpointDto Remote,
    string State,
    long Inode,
    int Uid,
    IReadOnlyList<OwnerDto> Owners,
    QueuesDto Queues);

/// <summary>How completely sockets were attributed to processes.</summary>
public sealed record AttributionDto(string Completeness, int ProcessesScanned, int ProcessesSkipped, string? Note);

/// <summary>The OS port policy the snapshot was classified with.</summary>
public sealed record PortPolicyDto(int EphemeralFirst, int EphemeralLast, int UnprivilegedPortStart, string Source);

/// <summary>How and when a snapshot was taken.</summary>
public sealed record SnapshotMetadataDto(
    DateTimeOffset TakenAt,
    double DurationMs,
    string HostName,
    string Reader,
    AttributionDto Attribution,
    PortPolicyDto PortPolicy,
    int MalformedLines);

/// <summary>
/// A full view: the sockets of one snapshot that match <paramref name="Filter"/>. The hub's <c>Snapshot</c> message
/// and the body of <c>GET /api/snapshot</c>.
/// </summary>
/// <param name="Sequence">The sequence number of the last delta this snapshot includes (0 before the first).</param>
/// <param name="Filter">The filter applied, in its canonical query form (empty for none).</param>
/// <param name="Total">Sockets in the whole snapshot, before filtering.</param>
public sealed record SnapshotMessage(
    long Sequence,
    string Filter,
    SnapshotMetadataDto Metadata,
    int Total,
    IReadOnlyList<SocketDto> Sockets);

/// <summary>
/// What changed, for one subscription's filter, from sequence <paramref name="FromSequence"/> to
/// <paramref name="ToSequence"/> inclusive. Messages are contiguous: each one's <paramref name="FromSequence"/> is the
/// previous message's <paramref name="ToSequence"/> + 1 (or the <c>Snapshot</c>'s sequence + 1); anything else is a gap
/// and the client should subscribe again. Sent even when nothing matching changed.
/// </summary>
/// <param name="Added">Sockets that appeared, or that changed and now match the filter.</param>
/// <param name="Removed">Ids of sockets that disappeared, or that changed and no longer match.</param>
/// <param name="Changed">Sockets whose state or owners changed and still match.</param>
public sealed record DeltaMessage(
    long FromSequence,
    long ToSequence,
    DateTimeOffset TakenAt,
    IReadOnlyList<SocketDto> Added,
    IReadOnlyList<string> Removed,
    IReadOnlyList<SocketDto> Changed);

/// <summary>Turns Core's sockets and snapshots into the wire shapes.</summary>
public sealed class WireMapper(ServiceNameRegistry services, bool showCommandLine)
{
    public ServiceNameRegistry Services { get; } = services;

    /// <summary>The stable id of a socket: <c>tcp/127.0.0.1:5000/*:*/12345</c> (protocol/local/remote/inode).</summary>
    public static string Id(SocketKey key) => string.Create(
        CultureInfo.InvariantCulture, $"{key.Protocol.ToQueryValue()}/{key.Local}/{key.Remote}/{key.Inode}");

    public SocketDto Socket(Socket socket, OsPortPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(policy);
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
            new QueuesDto(socket.TransmitQueue, socket.ReceiveQueue));
    }

    /// <summary>The sockets of <paramref name="snapshot"/> that match <paramref name="filter"/>, with the snapshot's metadata.</summary>
    public SnapshotMessage Snapshot(Snapshot snapshot, long sequence, Filter filter)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(filter);
        var sockets = new List<SocketDto>(filter.IsEmpty ? snapshot.Count : 16);
        foreach (var socket in snapshot.Sockets)
        {
            if (Matches(filter, socket))
            {
                sockets.Add(Socket(socket, snapshot.PortPolicy));
            }
        }

        return new SnapshotMessage(sequence, filter.ToQueryString(), Metadata(snapshot), snapshot.Count, sockets);
    }

    /// <summary>Whether <paramref name="socket"/> is in <paramref name="filter"/>'s view (service names included).</summary>
    public bool Matches(Filter filter, Socket socket) => filter.IsEmpty || filter.Matches(socket, Services);

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
