namespace PortDashboard.Core.Sockets;

/// <summary>
/// A TCP socket's internals as the kernel reports them in <c>struct tcp_info</c> (linux/tcp.h; what <c>ss -i</c>
/// shows): round-trip time, congestion window, retransmits and byte counters. Only the netlink reader has them; a
/// socket read from /proc/net has none (<see cref="Socket.Tcp"/> is null). Fields a kernel's shorter struct lacks are
/// null: the byte counters came in Linux 4.1, the delivery rate in 4.9, bytes sent in 4.19.
/// </summary>
/// <param name="RttMicroseconds">Smoothed round-trip time (<c>tcpi_rtt</c>), µs.</param>
/// <param name="RttVarianceMicroseconds">Its mean deviation (<c>tcpi_rttvar</c>), µs.</param>
/// <param name="CongestionWindow">The send congestion window (<c>tcpi_snd_cwnd</c>), in segments.</param>
/// <param name="TotalRetransmits">Segments retransmitted over the connection's life (<c>tcpi_total_retrans</c>).</param>
/// <param name="Lost">Segments currently thought lost (<c>tcpi_lost</c>).</param>
/// <param name="BytesAcked">Bytes sent and acknowledged by the peer (<c>tcpi_bytes_acked</c>).</param>
/// <param name="BytesReceived">Bytes received in order (<c>tcpi_bytes_received</c>).</param>
/// <param name="BytesSent">Bytes sent, retransmits included (<c>tcpi_bytes_sent</c>).</param>
/// <param name="DeliveryRate">The kernel's latest delivery-rate sample (<c>tcpi_delivery_rate</c>), bytes/s.</param>
public readonly record struct TcpInfo(
    uint RttMicroseconds,
    uint RttVarianceMicroseconds,
    uint CongestionWindow,
    uint TotalRetransmits,
    uint Lost,
    ulong? BytesAcked,
    ulong? BytesReceived,
    ulong? BytesSent,
    ulong? DeliveryRate)
{
    /// <summary>The round-trip time in milliseconds.</summary>
    public double RttMilliseconds => RttMicroseconds / 1000.0;
}
