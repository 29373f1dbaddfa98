using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace PortDashboard.Core.Tests.Reading;

/// <summary>One line the generator wrote, as a person reads it: what the parser must give back.</summary>
public sealed record GeneratedRow(IPEndPoint Local, IPEndPoint Remote, int KernelState, int TransmitQueue, int ReceiveQueue, int Uid, long Inode);

/// <summary>
/// Writes a <c>/proc/net/tcp</c> or <c>tcp6</c> table the way the kernel prints one (tcp4_seq_show/tcp6_seq_show):
/// full sockets with their trailing columns (refcount, pointer, rto, ato, quickack/pingpong, cwnd, ssthresh), the
/// shorter TIME_WAIT lines, IPv4 lines padded with spaces to 149 characters. Deterministic for a seed.
/// Shared by the parser tests and the benchmark project (linked there), so both parse the same kind of table.
/// </summary>
public static class ProcNetTableGenerator
{
    public const string TcpHeader =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";

    public const string Tcp6Header =
        "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";

    /// <summary>The width the kernel pads every IPv4 TCP line to (TMPSZ - 1).</summary>
    private const int Tcp4LineWidth = 149;

    private static readonly IPAddress[] V4Addresses =
        [IPAddress.Loopback, IPAddress.Parse("10.0.3.17"), IPAddress.Parse("192.168.1.20"), IPAddress.Parse("203.0.113.80")];

    private static readonly IPAddress[] V6Addresses =
        [IPAddress.IPv6Loopback, IPAddress.Parse("2001:db8::8:800:200c:417a"), IPAddress.Parse("fe80::1"), IPAddress.Parse("::ffff:10.0.3.17")];

    private static readonly int[] Uids = [0, 0, 0, 33, 1000, 65534];

    /// <summary>A table of <paramref name="count"/> sockets: ~2% LISTEN, ~68% ESTABLISHED, ~25% TIME_WAIT, the rest CLOSE_WAIT and FIN_WAIT2.</summary>
    public static (string Text, List<GeneratedRow> Rows) Tcp(int count, bool ipv6 = false, int seed = 2026)
    {
        var random = new Random(seed);
        var text = new StringBuilder((count + 1) * (ipv6 ? 180 : Tcp4LineWidth + 1));
        var rows = new List<GeneratedRow>(count);
        AppendLine(text, ipv6 ? Tcp6Header : TcpHeader, ipv6);
        var addresses = ipv6 ? V6Addresses : V4Addresses;
        var wildcard = ipv6 ? IPAddress.IPv6Any : IPAddress.Any;
        var inode = 40_000L;

        for (var sl = 0; sl < count; sl++)
        {
            var roll = random.Next(100);
            var state = roll switch { < 2 => 0x0A, < 70 => 0x01, < 95 => 0x06, < 98 => 0x08, _ => 0x05 };
            GeneratedRow row;
            string line;
            if (state == 0x0A)
            {
                var local = new IPEndPoint(random.Next(2) == 0 ? wildcard : addresses[0], random.Next(1, 65536));
                var backlog = random.Next(4);
                row = new GeneratedRow(local, new IPEndPoint(wildcard, 0), state, 0, backlog, Uids[random.Next(Uids.Length)], inode += random.Next(1, 9));
                line = FullSocket(sl, row, "00:00000000", random);
            }
            else
            {
                var local = new IPEndPoint(addresses[random.Next(addresses.Length)], random.Next(32768, 61000));
                var remote = new IPEndPoint(addresses[random.Next(addresses.Length)], random.Next(2) == 0 ? 443 : random.Next(1, 65536));
                if (state == 0x06)
                {
                    row = new GeneratedRow(local, remote, state, 0, 0, 0, 0);
                    line = $"{sl,4}: {Hex(local)} {Hex(remote)} 06 00000000:00000000 03:{random.Next(1, 6000):X8} 00000000 {0,5} {0,8} 0 3 {Pointer(random)}";
                }
                else
                {
                    var tx = random.Next(8) == 0 ? random.Next(1, 100_000) : 0;
                    var rx = random.Next(8) == 0 ? random.Next(1, 100_000) : 0;
                    row = new GeneratedRow(local, remote, state, tx, rx, Uids[random.Next(Uids.Length)], inode += random.Next(1, 9));
                    var timer = tx > 0 ? $"01:{random.Next(1, 300):X8}" : $"02:{random.Next(1, 720_000):X8}";
                    line = FullSocket(sl, row, timer, random);
                }
            }

            rows.Add(row);
            AppendLine(text, line, ipv6);
        }

        return (text.ToString(), rows);
    }

    /// <summary>The hex the kernel prints for an endpoint: each 32-bit word of the address as it sits in memory (little-endian), then the port.</summary>
    public static string Hex(IPEndPoint endpoint)
    {
        var bytes = endpoint.Address.GetAddressBytes();
        var text = new StringBuilder(37);
        for (var i = 0; i < bytes.Length; i += 4)
        {
            text.Append(BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i)).ToString("X8"));
        }

        return text.Append(':').Append(endpoint.Port.ToString("X4")).ToString();
    }

    private static string FullSocket(int sl, GeneratedRow row, string timer, Random random)
    {
        var retransmits = random.Next(20) == 0 ? random.Next(1, 5) : 0;
        var ssthresh = random.Next(3) == 0 ? -1 : random.Next(7, 1000);
        return string.Format(
            "{0,4}: {1} {2} {3:X2} {4:X8}:{5:X8} {6} {7:X8} {8,5} {9,8} {10} {11} {12} {13} {14} {15} {16} {17}",
            sl, Hex(row.Local), Hex(row.Remote), row.KernelState, row.TransmitQueue, row.ReceiveQueue, timer, retransmits,
            row.Uid, 0, row.Inode, random.Next(1, 3), Pointer(random), random.Next(20, 220), random.Next(0, 41),
            random.Next(0, 33), random.Next(10, 90), ssthresh);
    }

    private static string Pointer(Random random) => random.NextInt64().ToString("x16");

    private static void AppendLine(StringBuilder text, string line, bool ipv6)
    {
        text.Append(line);
        if (!ipv6 && line.Length < Tcp4LineWidth)
        {
            text.Append(' ', Tcp4LineWidth - line.Length);
        }

        text.Append('\n');
    }
}
