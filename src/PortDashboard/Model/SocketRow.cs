using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Model;

/// <summary>How a row of the live table is highlighted (TCPView's convention).</summary>
public enum RowStatus : byte
{
    /// <summary>Present and unchanged since its highlight (if any) expired.</summary>
    Steady,

    /// <summary>Appeared recently: shown green.</summary>
    New,

    /// <summary>Its state or owners changed recently: shown yellow.</summary>
    Changed,

    /// <summary>Closed: shown struck through in red until it is dropped.</summary>
    Removed,
}

/// <summary>
/// One row of the Connections grid: the latest <see cref="Core.Sockets.Socket"/> under its key, when it was first
/// seen and its highlight. Display text is computed on first use, so only rows that are actually shown pay for it.
/// The properties the grid sorts on are named by <see cref="SocketSort"/>.
/// </summary>
public sealed class SocketRow
{
    private string? _localAddress;
    private string? _remoteAddress;
    private string? _processes;
    private string? _user;
    private AddressSortKey? _localKey;
    private AddressSortKey? _remoteKey;

    private readonly LatestSnapshot? _latest;
    private Snapshot? _figuresOf;
    private TcpInfo? _tcp;
    private Throughput? _rate;

    internal SocketRow(Socket socket, DateTimeOffset firstSeen, bool seenAtStart, LatestSnapshot? latest = null)
    {
        _latest = latest;
        Socket = socket;
        Key = socket.Key;
        FirstSeen = firstSeen;
        SeenAtStart = seenAtStart;
    }

    public Socket Socket { get; private set; }

    public SocketKey Key { get; }

    /// <summary>When the service first saw this socket (<see cref="SocketAges"/>; the table's first snapshot without it).</summary>
    public DateTimeOffset FirstSeen { get; }

    /// <summary>The socket was already open when the service started, so its real age is at least the age shown.</summary>
    public bool SeenAtStart { get; }

    public RowStatus Status { get; private set; }

    /// <summary>When the current highlight ends (and a removed row is dropped).</summary>
    public DateTimeOffset StatusUntil { get; private set; }

    public bool IsRemoved => Status == RowStatus.Removed;

    /// <summary>The host whose table holds the row (its table's snapshot's host name): the fleet pages' Host column.</summary>
    public string Host => _latest?.Snapshot.HostName ?? "";

    /// <summary>The OS port policy of the row's host, which judges its ports' OS classes.</summary>
    public OsPortPolicy PortPolicy => _latest?.Snapshot.PortPolicy ?? OsPortPolicy.LinuxDefault;

    public TransportProtocol Protocol => Socket.Protocol;

    public int LocalPort => Socket.Local.Port;

    public int RemotePort => Socket.Remote.Port;

    public SocketState State => Socket.State;

    public string LocalAddress => _localAddress ??= Socket.Local.Address.ToString();

    /// <summary>The remote address, or <c>*</c> for a listening or unconnected socket.</summary>
    public string RemoteAddress => _remoteAddress ??= Socket.Remote.Address.ToString();

    /// <summary>The remote endpoint is <c>*:*</c>: no port, no range.</summary>
    public bool HasRemote => !Socket.Remote.IsUnspecified;

    public PortRange LocalRange => PortRanges.Classify(LocalPort);

    public PortRange? RemoteRange => HasRemote ? PortRanges.Classify(RemotePort) : null;

    /// <summary>The first owner's name, or empty when the socket has none (TIME_WAIT, unreadable processes).</summary>
    public string ProcessName => Socket.Owners.IsEmpty ? "" : Socket.Owners[0].Name;

    /// <summary>Every owner as <c>name (pid)</c>, comma-separated.</summary>
    public string Processes => _processes ??= Display.Owners(Socket.Owners);

    /// <summary>The owners' user names, or the socket's uid when no owner could be read.</summary>
    public string User => _user ??= Display.User(Socket);

    /// <summary>
    /// The TCP internals of the latest snapshot's instance of this socket: a row is updated only when its state or
    /// owners change (deltas leave counters out), so the figures are read from the table's latest snapshot.
    /// </summary>
    public TcpInfo? Tcp
    {
        get
        {
            Refresh();
            return _tcp;
        }
    }

    /// <summary>Bytes/s in and out since the previous poll; null when unknown (first poll, new connection, no counters).</summary>
    public Throughput? Rate
    {
        get
        {
            Refresh();
            return _rate;
        }
    }

    /// <summary>Bytes/s in and out together, the throughput column's sort key.</summary>
    public double? Throughput => Rate?.Total;

    public double? RttMs => Tcp?.RttMilliseconds;

    /// <summary>The network namespace's name: <c>host</c>, an <c>ip netns</c> name, or <c>net:[inode]</c>.</summary>
    public string Namespace => Socket.Namespace.Name;

    /// <summary>The owner's container or systemd unit (<see cref="Socket.Container"/>), or empty when none is known.</summary>
    public string Container => Socket.Container ?? "";

    public long? Retransmits => Tcp?.TotalRetransmits;

    private void Refresh()
    {
        var latest = _latest?.Snapshot;
        if (ReferenceEquals(latest, _figuresOf))
        {
            return;
        }

        _figuresOf = latest;
        if (latest is not null && !IsRemoved && latest.TryGet(Key, out var current))
        {
            (_tcp, _rate) = (current.Tcp, latest.Traffic.Of(current));
        }
        else
        {
            (_tcp, _rate) = (IsRemoved ? null : Socket.Tcp, null);
        }
    }

    /// <summary>The CSS class carrying the highlight.</summary>
    public string CssClass => Status switch
    {
        RowStatus.New => "row-new",
        RowStatus.Changed => "row-changed",
        RowStatus.Removed => "row-removed",
        _ => "",
    };

    internal AddressSortKey LocalKey => _localKey ??= AddressSortKey.Of(Socket.Local.Address);

    internal AddressSortKey RemoteKey => _remoteKey ??= AddressSortKey.Of(Socket.Remote.Address);

    /// <summary>Age since first seen, never negative.</summary>
    public TimeSpan AgeAt(DateTimeOffset now) => now > FirstSeen ? now - FirstSeen : TimeSpan.Zero;

    internal void Highlight(RowStatus status, DateTimeOffset until)
    {
        Status = status;
        StatusUntil = until;
    }

    internal void ClearHighlight() => Status = RowStatus.Steady;

    /// <summary>Takes the newer socket of the same key (state or owners may differ).</summary>
    internal void Update(Socket socket)
    {
        if (Socket.Owners != socket.Owners)
        {
            _processes = null;
            _user = null;
        }

        Socket = socket;
    }
}

/// <summary>The snapshot a table shows, shared by its rows so each reads its live figures from it.</summary>
internal sealed class LatestSnapshot
{
    public Snapshot Snapshot { get; set; } = Snapshot.Empty;
}

/// <summary>An address as one sortable number: IPv4 (and IPv4-mapped IPv6) before IPv6, then numerically.</summary>
internal readonly record struct AddressSortKey(bool IsIPv6, UInt128 Value) : IComparable<AddressSortKey>
{
    public static AddressSortKey Of(NetAddress address)
    {
        var unmapped = address.Unmapped;
        Span<byte> bytes = stackalloc byte[16];
        unmapped.WriteBytes(bytes);
        UInt128 value = 0;
        for (var i = 0; i < unmapped.ByteLength; i++)
        {
            value = (value << 8) | bytes[i];
        }

        return new AddressSortKey(unmapped.IsIPv6, value);
    }

    public int CompareTo(AddressSortKey other) =>
        IsIPv6 != other.IsIPv6 ? IsIPv6.CompareTo(other.IsIPv6) : Value.CompareTo(other.Value);
}
