using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Model;

/// <summary>Who can reach a bound socket, judged from its bind address.</summary>
public enum Exposure : byte
{
    /// <summary>Bound to 0.0.0.0 or :: — every interface.</summary>
    AllInterfaces,

    /// <summary>Bound to a loopback address — this machine only.</summary>
    LoopbackOnly,

    /// <summary>Bound to one other address — whoever can reach that address.</summary>
    OneAddress,
}

/// <summary>One row of the Listening page: a TCP socket in LISTEN or a bound, unconnected UDP socket.</summary>
public sealed class ListeningRow
{
    private ListeningRow(Socket socket, PortClassification classification, string? service, Snapshot snapshot)
    {
        Socket = socket;
        Host = snapshot.HostName;
        PortPolicy = snapshot.PortPolicy;
        Classification = classification;
        Service = service;
        Exposure = ExposureOf(socket.Local.Address);
        BindAddress = socket.Local.Address.IsWildcard
            ? (socket.Local.Address.IsIPv6 ? "::" : "0.0.0.0")
            : socket.Local.Address.ToString();
        Processes = Display.Owners(socket.Owners);
        User = Display.User(socket);
    }

    public Socket Socket { get; }

    /// <summary>The host whose snapshot holds the socket (the fleet's Host column).</summary>
    public string Host { get; }

    /// <summary>That host's OS port policy, which classified the port.</summary>
    public OsPortPolicy PortPolicy { get; }

    public int Port => Socket.Local.Port;

    public TransportProtocol Protocol => Socket.Protocol;

    public PortClassification Classification { get; }

    public PortRange Range => Classification.Range;

    public bool IsOsEphemeral => Classification.IsOsEphemeral;

    public string? Service { get; }

    /// <summary>The bind address as <c>ss</c> prints it: <c>0.0.0.0</c>, <c>::</c>, <c>127.0.0.1</c>.</summary>
    public string BindAddress { get; }

    public Exposure Exposure { get; }

    public string Processes { get; }

    public string User { get; }

    /// <summary>The <c>lsof -i -P -n | grep LISTEN</c> view (plus UDP's bound sockets), ordered by port, protocol, address.</summary>
    public static IReadOnlyList<ListeningRow> From(Snapshot snapshot, ServiceNameRegistry services)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(services);
        var rows = new List<ListeningRow>();
        foreach (var socket in snapshot.Sockets)
        {
            if (IsListening(socket))
            {
                rows.Add(new ListeningRow(socket, snapshot.PortPolicy.Classify(socket.Local.Port), services.Lookup(socket.Local.Port, socket.Protocol), snapshot));
            }
        }

        rows.Sort(static (a, b) =>
        {
            var order = a.Port.CompareTo(b.Port);
            if (order == 0) order = a.Protocol.CompareTo(b.Protocol);
            if (order == 0) order = AddressSortKey.Of(a.Socket.Local.Address).CompareTo(AddressSortKey.Of(b.Socket.Local.Address));
            return order;
        });
        return rows;
    }

    /// <summary>TCP in LISTEN, or UDP bound to a port with no peer.</summary>
    public static bool IsListening(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        return socket.Local.Port != 0 && socket.Protocol switch
        {
            TransportProtocol.Tcp => socket.State == SocketState.Listen,
            _ => socket.State == SocketState.Unconnected && socket.Remote.IsUnspecified,
        };
    }

    public static Exposure ExposureOf(NetAddress address) =>
        address.IsWildcard ? Exposure.AllInterfaces
        : address.IsLoopback ? Exposure.LoopbackOnly
        : Exposure.OneAddress;

    public static string Describe(Exposure exposure) => exposure switch
    {
        Exposure.AllInterfaces => "All interfaces",
        Exposure.LoopbackOnly => "Loopback only",
        _ => "One address",
    };
}
