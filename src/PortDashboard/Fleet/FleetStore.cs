using System.Collections.Immutable;
using PortDashboard.Api;
using PortDashboard.Core.Filtering;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;
using Endpoint = PortDashboard.Core.Sockets.Endpoint;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Fleet;

/// <summary>What a dashboard knows of a host's liveness.</summary>
public enum FleetHostStatus : byte
{
    /// <summary>Its heartbeat is fresh and its table is in sync.</summary>
    Online,

    /// <summary>Its heartbeat is late, or its table awaits a fresh snapshot: the sockets shown may be out of date.</summary>
    Stale,

    /// <summary>Its heartbeat lapsed: the sockets shown are the last known, never live.</summary>
    Offline,
}

/// <summary>One socket of a remote host: the wire shape it came in, and Core's form the filter grammar matches.</summary>
public sealed record FleetSocket(SocketDto Dto, Socket Socket)
{
    /// <summary>Rebuilds Core's socket from the wire shape (owners carry no start time or uid: only what the filter reads).</summary>
    public static FleetSocket From(SocketDto dto)
    {
        ArgumentNullException.ThrowIfNull(dto);
        var family = dto.Family == "ipv6" ? IpVersion.IPv6 : IpVersion.IPv4;
        var protocol = dto.Protocol == "udp" ? TransportProtocol.Udp : TransportProtocol.Tcp;
        var state = SocketStates.TryParseQueryValue(dto.State, out var parsed) ? parsed : SocketState.Unknown;
        var owners = dto.Owners.Select(o => new ProcessInfo(o.Pid, 0, o.Name, -1, o.User) { CommandLine = o.CommandLine }).ToImmutableArray();
        var socket = new Socket(protocol, family, Endpoint(dto.Local, family), Endpoint(dto.Remote, family), state,
            dto.Inode, dto.Uid, dto.Queues.Transmit, dto.Queues.Receive, owners, netNamespace: Namespace(dto));
        return new FleetSocket(dto, socket);
    }

    /// <summary>
    /// The agent's namespace of the socket, for the filter's <c>netns=</c> and <c>container=</c> (the owners carry no
    /// container: the dto's is kept on the namespace). The host's, from an agent that predates namespaces.
    /// </summary>
    private static NetNamespace Namespace(SocketDto dto)
    {
        if (dto.Netns is null && dto.Container is null)
        {
            return NetNamespace.Host;
        }

        var name = dto.Netns?.Name is { Length: > 0 } given ? given : NetNamespace.HostName;
        var inode = dto.Netns?.Inode ?? 0;
        return new NetNamespace(inode, name, isHost: name == NetNamespace.HostName, dto.Container);
    }

    private static Endpoint Endpoint(EndpointDto dto, IpVersion family)
    {
        var address = dto.Address == "*" || !NetAddress.TryParse(dto.Address, out var parsed)
            ? family == IpVersion.IPv6 ? NetAddress.AnyV6 : NetAddress.AnyV4
            : parsed;
        return new Endpoint(address, dto.Port);
    }
}

/// <summary>
/// One remote host as a dashboard node sees it: its liveness, the instance publishing it, and its socket table as of
/// <see cref="Sequence"/> (that agent's delta numbering). Immutable: the consumer swaps in a new one.
/// </summary>
public sealed record FleetHost(
    string Name,
    FleetHostStatus Status,
    DateTimeOffset? LastSeen,
    Heartbeat? Beat,
    ImmutableArray<string> Instances,
    string? Instance,
    long Sequence,
    SnapshotMetadataDto? Metadata,
    ImmutableDictionary<string, FleetSocket> Sockets,
    bool InSync,
    long Resyncs)
{
    public static FleetHost New(string name) =>
        new(name, FleetHostStatus.Offline, null, null, [], null, 0, null, ImmutableDictionary<string, FleetSocket>.Empty, false, 0);

    /// <summary>Two agent instances claim this host name: their tables would mix.</summary>
    public bool Duplicate => Instances.Length > 1;

    /// <summary>The sockets shown as live: only an online host's.</summary>
    public bool IsLive => Status == FleetHostStatus.Online;

    /// <summary>This host's sockets in <paramref name="filter"/>'s view (none when <c>host=</c> names other hosts).</summary>
    public IEnumerable<FleetSocket> Matching(Filter filter, ServiceNameRegistry services)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (!filter.MatchesHost(Name))
        {
            return [];
        }

        return Sockets.Values.Where(InView(filter, services));
    }

    /// <summary>Whether one socket of this host is in <paramref name="filter"/>'s view, its <c>host=</c> aside.</summary>
    public Func<FleetSocket, bool> InView(Filter filter, ServiceNameRegistry services)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var rest = filter with { Hosts = [] };
        var policy = PortPolicy; // range=os-ephemeral,privileged by that host's kernel, not this node's
        return rest.IsEmpty ? static _ => true : s => rest.Matches(s.Socket, services, policy);
    }

    /// <summary>The status as the wire spells it: <c>online</c>, <c>stale</c>, <c>offline</c>.</summary>
    public string StatusName => Status.ToString().ToLowerInvariant();

    /// <summary>The host's own OS port policy, from its last snapshot; Linux's defaults until one arrived.</summary>
    public OsPortPolicy PortPolicy => Metadata?.PortPolicy is { } p
        ? new OsPortPolicy(p.EphemeralFirst, p.EphemeralLast, p.UnprivilegedPortStart) { Source = p.Source }
        : OsPortPolicy.LinuxDefault;

    /// <summary>
    /// This host's table as Core's snapshot, for the pages' own models (Connections' table, Listening's rows): named
    /// after the host and classified by its own port policy. Memoized per record (by reference: a record is immutable,
    /// and a field would take part in its equality and be copied by <c>with</c>).
    /// </summary>
    public Snapshot ToSnapshot() => Snapshots.GetValue(this, static h => h.BuildSnapshot());

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<FleetHost, Snapshot> Snapshots = [];

    private Snapshot BuildSnapshot() => new(
        [.. Sockets.Values.Select(s => s.Socket)],
        Metadata?.TakenAt ?? LastSeen ?? DateTimeOffset.UnixEpoch,
        TimeSpan.FromMilliseconds(Metadata?.DurationMs ?? 0),
        Metadata?.Reader ?? "unknown",
        AttributionOf(Metadata?.Attribution),
        PortPolicy,
        Name);

    private static AttributionStatus AttributionOf(AttributionDto? dto) => dto is null
        ? AttributionStatus.Unavailable("no snapshot from this host yet")
        : new AttributionStatus(
            dto.Completeness switch { "complete" => AttributionCompleteness.Complete, "partial" => AttributionCompleteness.Partial, _ => AttributionCompleteness.Unavailable },
            dto.ProcessesScanned, dto.ProcessesSkipped, dto.Note);

    /// <summary>The /hosts page's figures for this host.</summary>
    public FleetHostSummary Summarize()
    {
        var byRange = new int[3];
        int exposed = 0, listeners = 0;
        var ephemeralPorts = new HashSet<(string, int)>();
        foreach (var socket in Sockets.Values)
        {
            var dto = socket.Dto;
            switch (dto.Local.Range)
            {
                case "wellknown": byRange[0]++; break;
                case "registered": byRange[1]++; break;
                case "ephemeral": byRange[2]++; break;
            }

            var listening = dto.State == "listen" || (dto.Protocol == "udp" && dto.Remote.Port == 0);
            if (listening)
            {
                listeners++;
                if (dto.Local.Address is "*" or "0.0.0.0" or "::")
                {
                    exposed++;
                }
            }
            else if (dto.Local.OsEphemeral)
            {
                ephemeralPorts.Add((dto.Protocol, dto.Local.Port));
            }
        }

        var policy = Metadata?.PortPolicy;
        var rangeSize = policy is null ? 0 : policy.EphemeralLast - policy.EphemeralFirst + 1;
        var tcp = ephemeralPorts.Count(p => p.Item1 == "tcp");
        var udp = ephemeralPorts.Count - tcp;
        var worst = rangeSize <= 0 ? 0 : Math.Max(tcp, udp) / (double)rangeSize;
        return new FleetHostSummary(Sockets.Count, byRange, listeners, exposed, Math.Max(tcp, udp), rangeSize, worst);
    }
}

/// <summary>Counts of one host's table: by IANA range of the local port, listeners, exposed ones, and ephemeral use.</summary>
/// <param name="WorstEphemeralUse">The larger of TCP's and UDP's share of the OS ephemeral range in use (0 to 1).</param>
public sealed record FleetHostSummary(
    int Total, IReadOnlyList<int> ByRange, int Listeners, int ExposedListeners, int EphemeralPortsInUse, int EphemeralRangeSize, double WorstEphemeralUse);

/// <summary>What happened to one host, in the order the consumer applied it: what the hub sends its fleet subscribers.</summary>
public abstract record FleetEvent(FleetHost Host);

/// <summary>The host's table was (re)loaded from its snapshot: the start, or a resync after a gap, a trim or a restart.</summary>
public sealed record FleetHostLoaded(FleetHost Host) : FleetEvent(Host);

/// <summary>
/// One delta of the agent's stream was applied, as the agent wrote it (its own sequence numbers):
/// <paramref name="Before"/> is the host's table just before it, so a filtered view knows what left it.
/// </summary>
public sealed record FleetHostDelta(FleetHost Host, DeltaMessage Message, ImmutableDictionary<string, FleetSocket> Before) : FleetEvent(Host);

/// <summary>The host's status (online, stale, offline) changed.</summary>
public sealed record FleetHostStatusChanged(FleetHost Host) : FleetEvent(Host);

/// <summary>
/// One reader of the store's events (a hub subscription): a bounded queue. A reader that falls behind is not waited
/// for: its queue is dropped, and <see cref="FleetStore.Resync"/> gives it every host's current state to start over from.
/// </summary>
public sealed class FleetEvents : IDisposable
{
    private readonly Queue<FleetEvent> _queue = new();
    private readonly SemaphoreSlim _signal = new(0);

    internal FleetEvents(int capacity) => Capacity = capacity;

    public int Capacity { get; }

    /// <summary>The queue overflowed: the next read is a resync.</summary>
    public bool Overflowed { get; private set; }

    internal void Write(FleetEvent e)
    {
        if (Overflowed)
        {
            return;
        }

        if (_queue.Count >= Capacity)
        {
            _queue.Clear();
            Overflowed = true;
        }
        else
        {
            _queue.Enqueue(e);
        }

        _signal.Release();
    }

    internal void ClearOverflow()
    {
        _queue.Clear();
        Overflowed = false;
    }

    /// <summary>Waits for events; returns the queued ones, or an empty list when the queue overflowed (check <see cref="Overflowed"/>).</summary>
    public async Task<IReadOnlyList<FleetEvent>> ReadAsync(FleetStore store, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        await _signal.WaitAsync(cancellationToken);
        lock (store.Gate)
        {
            while (_signal.CurrentCount > 0 && _signal.Wait(0, CancellationToken.None))
            {
                // one wake-up drains everything queued so far
            }

            if (Overflowed)
            {
                return [];
            }

            var events = _queue.ToList();
            _queue.Clear();
            return events;
        }
    }

    /// <summary>Called by <see cref="FleetStore.Unsubscribe"/>, once no one writes or reads it.</summary>
    public void Dispose() => _signal.Dispose();
}

/// <summary>
/// The fleet as this dashboard node sees it: every host's latest state, swapped atomically by the one consumer and
/// read by pages, the API and metrics. <see cref="Changed"/> fires after each round that changed anything. Hub
/// subscriptions read its <see cref="FleetEvent"/>s: a state and the events after it are taken under one lock, so
/// a subscriber's snapshot and the deltas that follow it never overlap nor leave a gap.
/// </summary>
public sealed class FleetStore
{
    /// <summary>Events a hub subscription may have queued before it is resynced instead (its client reads too slowly).</summary>
    public const int EventCapacity = 1024;

    private readonly List<FleetEvents> _readers = [];
    private ImmutableSortedDictionary<string, FleetHost> _hosts = ImmutableSortedDictionary<string, FleetHost>.Empty.WithComparers(StringComparer.Ordinal);
    private long _version;

    public ImmutableSortedDictionary<string, FleetHost> Hosts => Volatile.Read(ref _hosts);

    /// <summary>Bumped by every change; a page compares it to skip a redraw.</summary>
    public long Version => Interlocked.Read(ref _version);

    internal object Gate => _readers;

    public event Action? Changed;

    public void Set(FleetHost host) => Set(host, []);

    /// <summary>Sets <paramref name="host"/> and tells the event readers what led to it, as one step.</summary>
    public void Set(FleetHost host, IReadOnlyList<FleetEvent> events)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(events);
        lock (Gate)
        {
            ImmutableInterlocked.Update(ref _hosts, static (hosts, h) => hosts.SetItem(h.Name, h), host);
            Interlocked.Increment(ref _version);
            foreach (var reader in _readers)
            {
                foreach (var e in events)
                {
                    reader.Write(e);
                }
            }
        }
    }

    /// <summary>Starts reading events: the hosts as they are now, and every event after them.</summary>
    public (FleetEvents Events, ImmutableSortedDictionary<string, FleetHost> Hosts) Subscribe(int capacity = EventCapacity)
    {
        lock (Gate)
        {
            var reader = new FleetEvents(capacity);
            _readers.Add(reader);
            return (reader, Hosts);
        }
    }

    /// <summary>After an overflow: the hosts as they are now, the events after them follow.</summary>
    public ImmutableSortedDictionary<string, FleetHost> Resync(FleetEvents events)
    {
        ArgumentNullException.ThrowIfNull(events);
        lock (Gate)
        {
            events.ClearOverflow();
            return Hosts;
        }
    }

    public void Unsubscribe(FleetEvents events)
    {
        lock (Gate)
        {
            _readers.Remove(events);
        }

        events.Dispose();
    }

    /// <summary>Tells the pages: after a round that changed a host, or the connection's state.</summary>
    public void NotifyChanged()
    {
        Interlocked.Increment(ref _version);
        Changed?.Invoke();
    }
}
