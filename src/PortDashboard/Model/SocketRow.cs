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

    internal SocketRow(Socket socket, DateTimeOffset firstSeen, bool seenAtStart)
    {
        Socket = socket;
        Key = socket.Key;
        FirstSeen = firstSeen;
        SeenAtStart = seenAtStart;
    }

    public Socket Socket { get; private set; }

    public SocketKey Key { get; }

    /// <summary>When the dashboard first saw this socket (the snapshot's time).</summary>
    public DateTimeOffset FirstSeen { get; }

    /// <summary>The socket was already open when the view started, so its real age is at least the age shown.</summary>
    public bool SeenAtStart { get; }

    public RowStatus Status { get; private set; }

    /// <summary>When the current highlight ends (and a removed row is dropped).</summary>
    public DateTimeOffset StatusUntil { get; private set; }

    public bool IsRemoved => Status == RowStatus.Removed;

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
