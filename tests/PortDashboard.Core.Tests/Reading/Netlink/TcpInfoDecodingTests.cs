using PortDashboard.Core.Reading.Netlink;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Core.Tests.Reading.Netlink;

/// <summary>
/// INET_DIAG_INFO decoding on inet_diag_msg replies checked in under Fixtures/netlink (capture.py took the first from
/// this kernel; variants.py cut the others to what older kernels send, and broke one).
/// </summary>
public sealed class TcpInfoDecodingTests
{
    private static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "netlink", name));

    [Fact]
    public void A_current_kernels_tcp_info_gives_every_figure()
    {
        // A loopback server socket that had received 100,000 bytes and sent 5,000 (all acknowledged).
        var socket = SockDiagMessages.DecodeSocket(Fixture("tcp_established_server.bin"), TransportProtocol.Tcp);

        Assert.NotNull(socket);
        Assert.Equal(SocketState.Established, socket.State);
        var tcp = Assert.IsType<TcpInfo>(socket.Tcp);
        Assert.Equal(5000UL, tcp.BytesAcked);
        Assert.Equal(100_000UL, tcp.BytesReceived);
        Assert.Equal(5000UL, tcp.BytesSent);
        Assert.Equal(0U, tcp.TotalRetransmits);
        Assert.Equal(0U, tcp.Lost);
        Assert.Equal(11U, tcp.CongestionWindow);
        Assert.True(tcp.RttMicroseconds is > 0 and < 1_000_000, $"a loopback rtt, not {tcp.RttMicroseconds} µs");
        Assert.True(tcp.RttVarianceMicroseconds > 0, "rttvar is read");
        Assert.NotNull(tcp.DeliveryRate);
    }

    [Fact]
    public void A_linux_4_1_struct_has_byte_counters_but_no_delivery_rate_nor_bytes_sent()
    {
        var tcp = SockDiagMessages.DecodeSocket(Fixture("tcp_info_linux_4_1.bin"), TransportProtocol.Tcp)?.Tcp;

        Assert.NotNull(tcp);
        Assert.Equal(100_000UL, tcp.Value.BytesReceived);
        Assert.Equal(5000UL, tcp.Value.BytesAcked);
        Assert.Null(tcp.Value.DeliveryRate);
        Assert.Null(tcp.Value.BytesSent);
    }

    [Fact]
    public void An_old_kernels_struct_has_rtt_and_cwnd_but_unknown_counters()
    {
        var tcp = SockDiagMessages.DecodeSocket(Fixture("tcp_info_linux_2_6.bin"), TransportProtocol.Tcp)?.Tcp;

        Assert.NotNull(tcp);
        Assert.Equal(11U, tcp.Value.CongestionWindow);
        Assert.Null(tcp.Value.BytesAcked);
        Assert.Null(tcp.Value.BytesReceived);
    }

    [Theory]
    [InlineData("tcp_info_too_short.bin")]
    [InlineData("tcp_info_truncated.bin")]
    public void A_short_or_truncated_attribute_is_skipped_and_the_socket_kept(string fixture)
    {
        var socket = SockDiagMessages.DecodeSocket(Fixture(fixture), TransportProtocol.Tcp);

        Assert.NotNull(socket);
        Assert.Equal(SocketState.Established, socket.State);
        Assert.Null(socket.Tcp);
    }

    [Fact]
    public void Every_cut_of_the_message_decodes_without_throwing()
    {
        var whole = Fixture("tcp_established_server.bin");
        for (var length = SockDiagMessages.InetDiagMessageLength; length <= whole.Length; length++)
        {
            var socket = SockDiagMessages.DecodeSocket(whole.AsSpan(0, length), TransportProtocol.Tcp);
            Assert.NotNull(socket);
            if (socket.Tcp is { } tcp)
            {
                Assert.Equal(100_000UL, tcp.BytesReceived ?? 100_000UL);
            }
        }
    }

    [Fact]
    public void A_udp_message_carries_no_tcp_info()
    {
        Assert.Null(SockDiagMessages.DecodeSocket(Fixture("tcp_established_server.bin"), TransportProtocol.Udp)?.Tcp);
    }

    [Fact]
    public void Dump_requests_ask_for_tcp_info_only_when_told_and_only_for_tcp()
    {
        var request = new byte[SockDiagMessages.TcpCompatRequestLength];

        SockDiagMessages.WriteDumpRequest(request, SockDiagMessages.AfInet, SockDiagMessages.IpProtoTcp, 1, withTcpInfo: true);
        Assert.Equal(SockDiagMessages.InetDiagInfoExtension, request[SockDiagMessages.NetlinkHeaderLength + 2]);
        SockDiagMessages.WriteDumpRequest(request, SockDiagMessages.AfInet, SockDiagMessages.IpProtoUdp, 1, withTcpInfo: true);
        Assert.Equal(0, request[SockDiagMessages.NetlinkHeaderLength + 2]);
        SockDiagMessages.WriteTcpCompatDumpRequest(request, 1, withTcpInfo: true);
        Assert.Equal(SockDiagMessages.InetDiagInfoExtension, request[SockDiagMessages.NetlinkHeaderLength + 3]);
        SockDiagMessages.WriteTcpCompatDumpRequest(request, 1, withTcpInfo: false);
        Assert.Equal(0, request[SockDiagMessages.NetlinkHeaderLength + 3]);
    }
}
