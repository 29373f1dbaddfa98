namespace PortDashboard.Core.Sockets;

/// <summary>Names of <see cref="SocketState"/> in URLs (ss's filter words) and on screen (ss's column words).</summary>
public static class SocketStates
{
    /// <summary>Every state a filter may name, in the kernel's order.</summary>
    public static IReadOnlyList<SocketState> All { get; } =
    [
        SocketState.Established, SocketState.SynSent, SocketState.SynRecv, SocketState.FinWait1,
        SocketState.FinWait2, SocketState.TimeWait, SocketState.Close, SocketState.CloseWait,
        SocketState.LastAck, SocketState.Listen, SocketState.Closing, SocketState.NewSynRecv,
        SocketState.Unconnected,
    ];

    /// <summary>Maps the kernel's state number for a protocol: UDP reports TCP_CLOSE (7) when unconnected.</summary>
    public static SocketState FromKernel(TransportProtocol protocol, int kernelState)
    {
        if (protocol == TransportProtocol.Udp && kernelState == (int)SocketState.Close)
        {
            return SocketState.Unconnected;
        }

        return kernelState is >= 1 and <= 12 ? (SocketState)kernelState : SocketState.Unknown;
    }

    public static string ToQueryValue(this SocketState state) => state switch
    {
        SocketState.Established => "established",
        SocketState.SynSent => "syn-sent",
        SocketState.SynRecv => "syn-recv",
        SocketState.FinWait1 => "fin-wait-1",
        SocketState.FinWait2 => "fin-wait-2",
        SocketState.TimeWait => "time-wait",
        SocketState.Close => "close",
        SocketState.CloseWait => "close-wait",
        SocketState.LastAck => "last-ack",
        SocketState.Listen => "listen",
        SocketState.Closing => "closing",
        SocketState.NewSynRecv => "new-syn-recv",
        SocketState.Unconnected => "unconnected",
        _ => "unknown",
    };

    public static string ToDisplayName(this SocketState state) => state switch
    {
        SocketState.Established => "ESTABLISHED",
        SocketState.SynSent => "SYN-SENT",
        SocketState.SynRecv => "SYN-RECV",
        SocketState.FinWait1 => "FIN-WAIT-1",
        SocketState.FinWait2 => "FIN-WAIT-2",
        SocketState.TimeWait => "TIME-WAIT",
        SocketState.Close => "CLOSE",
        SocketState.CloseWait => "CLOSE-WAIT",
        SocketState.LastAck => "LAST-ACK",
        SocketState.Listen => "LISTEN",
        SocketState.Closing => "CLOSING",
        SocketState.NewSynRecv => "NEW-SYN-RECV",
        SocketState.Unconnected => "UNCONN",
        _ => "UNKNOWN",
    };

    public static bool TryParseQueryValue(ReadOnlySpan<char> text, out SocketState state)
    {
        foreach (var candidate in All)
        {
            if (text.Equals(candidate.ToQueryValue(), StringComparison.OrdinalIgnoreCase))
            {
                state = candidate;
                return true;
            }
        }

        state = SocketState.Unknown;
        return false;
    }

    public static string ToQueryValue(this TransportProtocol protocol) => protocol == TransportProtocol.Tcp ? "tcp" : "udp";

    public static string ToDisplayName(this TransportProtocol protocol) => protocol == TransportProtocol.Tcp ? "TCP" : "UDP";
}
