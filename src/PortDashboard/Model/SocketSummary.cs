using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Model;

/// <summary>The summary cards' figures for the open sockets (removed rows still on screen do not count).</summary>
/// <param name="Total">Open sockets.</param>
/// <param name="ByRange">Sockets per IANA range of their local port, indexed by <see cref="PortRange"/>.</param>
/// <param name="Tcp">TCP sockets.</param>
/// <param name="Udp">UDP sockets.</param>
/// <param name="Listening">TCP sockets in LISTEN.</param>
/// <param name="UdpBound">Unconnected UDP sockets bound to a port (UDP's listeners).</param>
/// <param name="Established">TCP sockets in ESTABLISHED and connected UDP sockets.</param>
/// <param name="TimeWait">TCP sockets in TIME-WAIT.</param>
/// <param name="EphemeralPortsInUse">Distinct local ports inside the OS ephemeral range.</param>
/// <param name="Policy">The OS port policy the ephemeral figures refer to.</param>
/// <param name="OsEphemeral">Sockets whose local port is in the OS ephemeral range (the kernel's view beside <paramref name="ByRange"/>).</param>
/// <param name="Privileged">Sockets whose local port is privileged (below <c>ip_unprivileged_port_start</c>).</param>
public sealed record SocketSummary(
    int Total,
    IReadOnlyList<int> ByRange,
    int Tcp,
    int Udp,
    int Listening,
    int UdpBound,
    int Established,
    int TimeWait,
    int EphemeralPortsInUse,
    OsPortPolicy Policy,
    int OsEphemeral = 0,
    int Privileged = 0)
{
    public static SocketSummary Empty { get; } = new(0, [0, 0, 0], 0, 0, 0, 0, 0, 0, 0, OsPortPolicy.LinuxDefault);

    public int InRange(PortRange range) => ByRange[(int)range];

    /// <summary>The share of the OS ephemeral range in use, 0 to 1.</summary>
    public double EphemeralUsage => Policy.EphemeralRangeSize <= 0 ? 0 : (double)EphemeralPortsInUse / Policy.EphemeralRangeSize;
}

/// <summary>Keeps <see cref="SocketSummary"/>'s figures up to date as sockets come and go, in time proportional to the churn.</summary>
internal sealed class SocketSummaryCounter
{
    private readonly int[] _byRange = new int[3];
    private readonly Dictionary<int, int> _ephemeralPortUse = [];
    private int _total;
    private int _tcp;
    private int _listening;
    private int _udpBound;
    private int _established;
    private int _timeWait;
    private int _osEphemeral;
    private int _privileged;

    public OsPortPolicy Policy { get; private set; } = OsPortPolicy.LinuxDefault;

    public int EphemeralPortsInUse => _ephemeralPortUse.Count;

    public void Reset(OsPortPolicy policy)
    {
        Array.Clear(_byRange);
        _ephemeralPortUse.Clear();
        _total = _tcp = _listening = _udpBound = _established = _timeWait = _osEphemeral = _privileged = 0;
        Policy = policy;
    }

    public void Add(Socket socket) => Count(socket, +1);

    public void Remove(Socket socket) => Count(socket, -1);

    public SocketSummary ToSummary() => new(
        _total, [.. _byRange], _tcp, _total - _tcp, _listening, _udpBound, _established, _timeWait,
        _ephemeralPortUse.Count, Policy, _osEphemeral, _privileged);

    private void Count(Socket socket, int sign)
    {
        _total += sign;
        _byRange[(int)PortRanges.Classify(socket.Local.Port)] += sign;
        if (socket.Protocol == TransportProtocol.Tcp)
        {
            _tcp += sign;
        }

        switch (socket.State)
        {
            case SocketState.Listen:
                _listening += sign;
                break;
            case SocketState.Unconnected when socket.Local.Port != 0:
                _udpBound += sign;
                break;
            case SocketState.Established:
                _established += sign;
                break;
            case SocketState.TimeWait:
                _timeWait += sign;
                break;
        }

        var port = socket.Local.Port;
        if (Policy.IsPrivileged(port))
        {
            _privileged += sign;
        }

        if (Policy.IsOsEphemeral(port))
        {
            _osEphemeral += sign;
            var uses = _ephemeralPortUse.GetValueOrDefault(port) + sign;
            if (uses > 0)
            {
                _ephemeralPortUse[port] = uses;
            }
            else
            {
                _ephemeralPortUse.Remove(port);
            }
        }
    }
}
