using System.Net;
using System.Text;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Sockets;
using static PortDashboard.Core.Tests.Reading.ProcNetTestSupport;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Core.Tests.Reading;

/// <summary>
/// The parser against tables captured from this machine's kernel (Fixtures/proc/loopback-mix): listeners on
/// 0.0.0.0, 127.0.0.1, a dual-stack :: and ::1; an IPv4 client of the dual-stack listener (so the accepted end is
/// ::ffff:127.0.0.1 in tcp6); TIME_WAIT, CLOSE_WAIT and FIN_WAIT2 ends; unread bytes in queues; a listener
/// owned by uid 65534; UDP bound and connected on IPv4 and IPv6. Expected values were worked out from the
/// capture program's sockets, not copied from the parser's output.
/// </summary>
public class ProcNetParserTests
{
    private static List<Socket> ParseFixture(string root, string table, TransportProtocol protocol, IpVersion family, out MalformedInput malformed)
    {
        var sockets = new List<Socket>();
        malformed = new MalformedInput();
        ProcNetParser.Parse(FixtureTable(root, table), protocol, family, sockets, malformed, table);
        return sockets;
    }

    [Fact]
    public void Captured_tcp_has_every_socket_in_kernel_order()
    {
        var sockets = ParseFixture("loopback-mix", "tcp", TransportProtocol.Tcp, IpVersion.IPv4, out var malformed);

        Assert.Equal(0, malformed.Count);
        Assert.Equal(
            [
                "TCP IPv4 127.0.0.1:18084 0.0.0.0:0 LISTEN q=0:0 uid=65534 inode=49348",
                "TCP IPv4 127.0.0.1:18081 0.0.0.0:0 LISTEN q=0:0 uid=0 inode=49336",
                "TCP IPv4 0.0.0.0:18080 0.0.0.0:0 LISTEN q=0:0 uid=0 inode=49335",
                "TCP IPv4 0.0.0.0:2024 0.0.0.0:0 LISTEN q=0:0 uid=0 inode=656",
                "TCP IPv4 127.0.0.1:40000 127.0.0.1:18082 ESTABLISHED q=0:0 uid=0 inode=49339",
                "TCP IPv4 192.0.2.2:58076 203.0.113.80:80 TIME-WAIT q=0:0 uid=0 inode=0",
                "TCP IPv4 192.0.2.2:59466 203.0.113.80:80 TIME-WAIT q=0:0 uid=0 inode=0",
                "TCP IPv4 127.0.0.1:35738 127.0.0.1:18081 TIME-WAIT q=0:0 uid=0 inode=0",
                "TCP IPv4 127.0.0.1:35754 127.0.0.1:18081 CLOSE-WAIT q=0:1 uid=0 inode=50393",
                "TCP IPv4 127.0.0.1:18081 127.0.0.1:35754 FIN-WAIT-2 q=0:0 uid=0 inode=50394",
            ],
            sockets.Select(Describe));
    }

    [Fact]
    public void Captured_tcp6_has_the_dual_stack_wildcard_loopback_and_IPv4_mapped_ends()
    {
        var sockets = ParseFixture("loopback-mix", "tcp6", TransportProtocol.Tcp, IpVersion.IPv6, out var malformed);

        Assert.Equal(0, malformed.Count);
        Assert.Equal(
            [
                "TCP IPv6 [::]:18082 [::]:0 LISTEN q=0:0 uid=0 inode=49337",
                "TCP IPv6 [::1]:18083 [::]:0 LISTEN q=0:0 uid=0 inode=49338",
                "TCP IPv6 [::1]:56456 [::1]:18083 ESTABLISHED q=0:7 uid=0 inode=49341",
                "TCP IPv6 [::1]:56472 [::1]:18083 TIME-WAIT q=0:0 uid=0 inode=0",
                "TCP IPv6 [::1]:18083 [::1]:56456 ESTABLISHED q=0:0 uid=0 inode=49342",
                "TCP IPv6 [::ffff:127.0.0.1]:18082 [::ffff:127.0.0.1]:40000 ESTABLISHED q=0:100 uid=0 inode=49340",
            ],
            sockets.Select(Describe));
    }

    [Fact]
    public void Wildcards_and_IPv4_mapped_addresses_keep_their_family()
    {
        var tcp = ParseFixture("loopback-mix", "tcp", TransportProtocol.Tcp, IpVersion.IPv4, out _);
        var tcp6 = ParseFixture("loopback-mix", "tcp6", TransportProtocol.Tcp, IpVersion.IPv6, out _);

        var anyV4 = tcp.Single(s => s.Local.Port == 18080);
        Assert.Equal(NetAddress.AnyV4, anyV4.Local.Address);
        Assert.True(anyV4.Local.Address.IsWildcard);
        Assert.True(anyV4.Remote.IsUnspecified, "a listener's remote is *:*");

        var anyV6 = tcp6.Single(s => s.Local.Port == 18082 && s.State == SocketState.Listen);
        Assert.Equal(NetAddress.AnyV6, anyV6.Local.Address);
        Assert.True(anyV6.Local.Address.IsIPv6);
        Assert.True(anyV6.Remote.IsUnspecified);

        var mapped = tcp6.Single(s => s.Local.Address.IsIPv4Mapped);
        Assert.Equal(IpVersion.IPv6, mapped.Family);
        Assert.True(mapped.Remote.Address.IsIPv4Mapped);
        Assert.Equal(IPAddress.Parse("::ffff:127.0.0.1"), mapped.Local.Address.ToIPAddress());
        Assert.Equal(NetAddress.FromIPv4(0x7F000001), mapped.Local.Address.Unmapped);
        Assert.True(mapped.Local.Address.IsLoopback);

        // The two ends of the IPv4 client's connection, one in each table.
        var client = tcp.Single(s => s.Local.Port == 40000);
        Assert.Equal(client.Local.Address, mapped.Remote.Address.Unmapped);
        Assert.Equal(client.Remote.Port, mapped.Local.Port);
    }

    [Fact]
    public void Captured_udp_tells_unconnected_from_connected()
    {
        var udp = ParseFixture("loopback-mix", "udp", TransportProtocol.Udp, IpVersion.IPv4, out var malformed4);
        var udp6 = ParseFixture("loopback-mix", "udp6", TransportProtocol.Udp, IpVersion.IPv6, out var malformed6);

        Assert.Equal(0, malformed4.Count + malformed6.Count);
        Assert.Equal(
            [
                "UDP IPv4 0.0.0.0:18090 0.0.0.0:0 UNCONN q=0:0 uid=0 inode=50396",
                "UDP IPv4 127.0.0.1:18091 0.0.0.0:0 UNCONN q=0:832 uid=0 inode=50397",
                "UDP IPv4 127.0.0.1:18094 127.0.0.1:18091 ESTABLISHED q=0:0 uid=0 inode=50400",
            ],
            udp.Select(Describe));
        Assert.Equal(
            [
                "UDP IPv6 [::]:18092 [::]:0 UNCONN q=0:0 uid=0 inode=50398",
                "UDP IPv6 [::1]:18093 [::]:0 UNCONN q=0:0 uid=0 inode=50399",
                "UDP IPv6 [::1]:18095 [::1]:18093 ESTABLISHED q=0:0 uid=0 inode=50401",
            ],
            udp6.Select(Describe));
        Assert.All(udp.Concat(udp6).Where(s => s.Remote.IsUnspecified), s => Assert.Equal(SocketState.Unconnected, s.State));
    }

    [Fact]
    public void TIME_WAIT_sockets_have_no_inode_yet_distinct_keys()
    {
        var tcp = ParseFixture("loopback-mix", "tcp", TransportProtocol.Tcp, IpVersion.IPv4, out _);

        var timeWait = tcp.Where(s => s.State == SocketState.TimeWait).ToList();
        Assert.Equal(3, timeWait.Count);
        Assert.All(timeWait, s => Assert.Equal(0, s.Inode));
        Assert.Equal(timeWait.Count, timeWait.Select(s => s.Key).Distinct().Count());
    }

    [Fact]
    public void Every_kernel_TCP_state_number_maps_to_its_state_and_UDP_close_is_unconnected()
    {
        var line = "   0: 0100007F:0016 00000000:0000 {0:X2} 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000";
        foreach (var state in Enumerable.Range(1, 12))
        {
            var tcp = ParseText(string.Format(line, state), TransportProtocol.Tcp, IpVersion.IPv4, out _);
            Assert.Equal((SocketState)state, Assert.Single(tcp).State);
        }

        Assert.Equal(SocketState.Unconnected, Assert.Single(ParseText(string.Format(line, 7), TransportProtocol.Udp, IpVersion.IPv4, out _)).State);
        Assert.Equal(SocketState.Established, Assert.Single(ParseText(string.Format(line, 1), TransportProtocol.Udp, IpVersion.IPv4, out _)).State);
    }

    [Fact]
    public void A_state_number_the_kernel_does_not_define_today_is_kept_as_unknown_not_dropped()
    {
        // Kernels add states (TCP_BOUND_INACTIVE is 13 since Linux 6.6), as they add columns: keep the socket.
        var sockets = ParseText(
            "   0: 0100007F:0016 00000000:0000 0D 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000",
            TransportProtocol.Tcp,
            IpVersion.IPv4,
            out var malformed);

        Assert.Equal(SocketState.Unknown, Assert.Single(sockets).State);
        Assert.Equal(0, malformed.Count);
    }

    [Fact]
    public void Lowercase_hex_and_tabs_between_columns_are_read()
    {
        var sockets = ParseText(
            "\t0:\t0100007f:1f90\t0100007f:c350\t01\t0000000a:0000000b\t00:00000000\t00000000\t1000\t0\t77",
            TransportProtocol.Tcp,
            IpVersion.IPv4,
            out var malformed);

        Assert.Equal(0, malformed.Count);
        Assert.Equal("TCP IPv4 127.0.0.1:8080 127.0.0.1:50000 ESTABLISHED q=10:11 uid=1000 inode=77", Describe(Assert.Single(sockets)));
    }

    [Fact]
    public void A_generated_table_reads_back_exactly_what_was_written()
    {
        foreach (var ipv6 in new[] { false, true })
        {
            var (text, rows) = ProcNetTableGenerator.Tcp(2_000, ipv6, seed: 7);
            var sockets = ParseText(text, TransportProtocol.Tcp, ipv6 ? IpVersion.IPv6 : IpVersion.IPv4, out var malformed);

            Assert.Equal(0, malformed.Count);
            Assert.Equal(rows.Count, sockets.Count);
            for (var i = 0; i < rows.Count; i++)
            {
                var (row, socket) = (rows[i], sockets[i]);
                Assert.Equal(row.Local, new IPEndPoint(socket.Local.Address.ToIPAddress(), socket.Local.Port));
                Assert.Equal(row.Remote, new IPEndPoint(socket.Remote.Address.ToIPAddress(), socket.Remote.Port));
                Assert.Equal((SocketState)row.KernelState, socket.State);
                Assert.Equal((row.TransmitQueue, row.ReceiveQueue, row.Uid, row.Inode), (socket.TransmitQueue, socket.ReceiveQueue, socket.Uid, socket.Inode));
            }
        }
    }

    [Fact]
    public void Every_byte_value_in_every_address_digit_is_accepted_exactly_when_it_is_a_hex_digit()
    {
        // The address words are read eight digits at a time; check that against a plain per-digit reading.
        const string Hex = "0123456789ABCDEFabcdef";
        for (var position = 0; position < 32; position++)
        {
            for (var b = 0; b < 256; b++)
            {
                var digits = "00000000000000000000000001000000".ToCharArray();
                digits[position] = (char)b;
                var text = new byte[37];
                for (var i = 0; i < 32; i++)
                {
                    text[i] = (byte)digits[i];
                }

                ":0050"u8.CopyTo(text.AsSpan(32));
                var ok = ProcNetParser.TryParseEndpoint(text, IpVersion.IPv6, out var endpoint, out _);

                Assert.True(ok == Hex.Contains((char)b), $"byte 0x{b:X2} at digit {position}: accepted={ok}");
                if (ok)
                {
                    var expected = new byte[16];
                    for (var word = 0; word < 4; word++)
                    {
                        var value = uint.Parse(new string(digits, word * 8, 8), System.Globalization.NumberStyles.HexNumber);
                        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(expected.AsSpan(word * 4), value); // as in the kernel's memory
                    }

                    Assert.Equal(new IPAddress(expected), endpoint.Address.ToIPAddress());
                    Assert.Equal(80, endpoint.Port);
                }
            }
        }
    }

    [Theory]
    [InlineData("a uid of six digits", "   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000 100000        0 4242 1 0000000000000000 100 0 0 10 0", "uid=100000 inode=4242")]
    [InlineData("a negative timeout", "   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000       -1 4242 1 0000000000000000 100 0 0 10 0", "uid=1000 inode=4242")]
    [InlineData("the largest inode", "   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9223372036854775807 1 0000000000000000", "uid=0 inode=9223372036854775807")]
    [InlineData("a 16-digit inode", "   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1234567890123456 1 0000000000000000", "uid=0 inode=1234567890123456")]
    [InlineData("the inode ending the line", "   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242", "uid=0 inode=4242")]
    [InlineData("a slot of five digits", "10000: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0", "uid=0 inode=4242")]
    [InlineData("queues wider than the kernel's 8 digits", "   0: 0100007F:0016 00000000:0000 0A 0000000000:000000000A 00:00000000 00000000     0        0 4242 1 0000000000000000", "uid=0 inode=4242")]
    public void Lines_outside_the_kernel_s_usual_widths_are_still_read(string name, string line, string expected)
    {
        var socket = Assert.Single(ParseText(line, TransportProtocol.Tcp, IpVersion.IPv4, out var malformed));

        Assert.True(malformed.Count == 0, name);
        Assert.EndsWith(expected, Describe(socket));
        Assert.StartsWith("TCP IPv4 127.0.0.1:22 0.0.0.0:0 LISTEN", Describe(socket));
    }

    [Fact]
    public void The_fast_path_and_the_column_by_column_path_agree_on_every_mutated_line()
    {
        // The fast path may only change speed: on kernel lines and on tens of thousands of damaged copies of
        // them, both paths must accept the same lines with the same values and reject the same lines.
        var random = new Random(11);
        var alphabet = " \t:-0123456789ABCDEFGabcdefg\r\u0000\u00ff"u8.ToArray();
        var checkedLines = 0;
        foreach (var ipv6 in new[] { false, true })
        {
            var family = ipv6 ? IpVersion.IPv6 : IpVersion.IPv4;
            var lines = ProcNetTableGenerator.Tcp(400, ipv6, seed: 3).Text.Split('\n')[1..^1];
            foreach (var text in lines)
            {
                var original = Encoding.ASCII.GetBytes(text);
                Compare(original);
                for (var mutation = 0; mutation < 40; mutation++)
                {
                    var bytes = new List<byte>(original);
                    var at = random.Next(Math.Min(bytes.Count, ipv6 ? 170 : 110));
                    switch (random.Next(3))
                    {
                        case 0:
                            bytes[at] = alphabet[random.Next(alphabet.Length)];
                            break;
                        case 1:
                            bytes.Insert(at, alphabet[random.Next(alphabet.Length)]);
                            break;
                        default:
                            bytes.RemoveAt(at);
                            break;
                    }

                    Compare([.. bytes]);
                }
            }

            void Compare(byte[] line)
            {
                var fastError = ProcNetParser.TryParseLine(line, TransportProtocol.Tcp, family, out var fast);
                var slowError = ProcNetParser.TryParseLine(line, TransportProtocol.Tcp, family, out var slow, kernelLayoutFirst: false);
                var shown = Encoding.Latin1.GetString(line);
                Assert.True(fastError == slowError, $"errors differ for '{shown}': '{fastError}' vs '{slowError}'");
                Assert.True((fast is null) == (slow is null), $"only one path accepted '{shown}'");
                if (fast is not null)
                {
                    Assert.True(Describe(fast) == Describe(slow!), $"'{shown}': {Describe(fast)} vs {Describe(slow!)}");
                }

                checkedLines++;
            }
        }

        Assert.Equal(2 * 400 * 41, checkedLines);
    }

    internal static List<Socket> ParseText(string text, TransportProtocol protocol, IpVersion family, out MalformedInput malformed)
    {
        var sockets = new List<Socket>();
        malformed = new MalformedInput();
        ProcNetParser.Parse(Encoding.UTF8.GetBytes(text), protocol, family, sockets, malformed, "test");
        return sockets;
    }
}
