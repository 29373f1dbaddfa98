using System.Text;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Sockets;
using static PortDashboard.Core.Tests.Reading.ProcNetTestSupport;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Core.Tests.Reading;

/// <summary>
/// One named case per kind of broken input. Each damaged line sits between two good lines: the damaged line is
/// skipped, counted and kept (raw text, line number and the column at fault), both good lines are still read,
/// and nothing throws.
/// </summary>
public class ProcNetMalformedInputTests
{
    private const string Header =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";

    // Real lines from Fixtures/proc/loopback-mix/net/tcp (trailing padding trimmed).
    private const string GoodBefore =
        "   1: 0100007F:46A1 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 49336 1 00000000b1f756bc 100 0 0 10 0";

    private const string GoodAfter =
        "   4: 0100007F:9C40 0100007F:46A2 01 00000000:00000000 00:00000000 00000000     0        0 49339 1 000000009e4eb272 20 0 0 11 -1";

    private const string Tcp6Header =
        "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";

    private const string Good6Before =
        "   1: 00000000000000000000000001000000:46A3 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 49338 1 000000005aa34ba5 100 0 0 10 0";

    private const string Good6After =
        "   5: 0000000000000000FFFF00000100007F:46A2 0000000000000000FFFF00000100007F:9C40 01 00000000:00000064 00:00000000 00000000     0        0 49340 1 000000005e9439ba 20 4 30 10 -1";

    /// <summary>Case name, the damaged line, and what the message must say about it.</summary>
    public static TheoryData<string, string, string> DamagedIPv4Lines => new()
    {
        {
            "truncated line (cut inside the remote address)",
            "   2: 00000000:46A0 00000000:00",
            "rem_address '00000000:00' has a port part '00' that is not 4 hex digits"
        },
        {
            "truncated line (cut after the state)",
            "   2: 00000000:46A0 00000000:0000 0A",
            "the line ends after 4 columns: 'tx_queue:rx_queue' is missing"
        },
        {
            "non-hex local address",
            "   2: 0000000G:46A0 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 49335 1 000000001b210080 100 0 0 10 0",
            "local_address '0000000G:46A0' has an address part '0000000G' that is not 8 hex digits"
        },
        {
            "address too short",
            "   2: 0000000:46A0 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 49335 1 000000001b210080 100 0 0 10 0",
            "local_address '0000000:46A0' has an address part '0000000' that is not 8 hex digits"
        },
        {
            "port out of range (5 hex digits)",
            "   2: 00000000:146A0 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 49335 1 000000001b210080 100 0 0 10 0",
            "local_address '00000000:146A0' has a port part '146A0' that is not 4 hex digits (0000-FFFF)"
        },
        {
            "no colon between address and port",
            "   2: 00000000:46A0 0000000000000 0A 00000000:00000000 00:00000000 00000000     0        0 49335 1 000000001b210080 100 0 0 10 0",
            "rem_address '0000000000000' has no ':' between address and port"
        },
        {
            "missing columns (uid, timeout and inode)",
            "   2: 00000000:46A0 00000000:0000 0A 00000000:00000000 00:00000000 00000000",
            "the line ends after 7 columns: 'uid' is missing (a line needs at least 10 columns, sl through inode)"
        },
        {
            "missing column in the middle (no tx_queue:rx_queue, the rest shifted left)",
            "   2: 00000000:46A0 00000000:0000 0A 00:00000000 00000000     0        0 49335 1 000000001b210080 100 0 0 10 0",
            "tr:tm->when '00000000' is not two hex numbers joined by ':'"
        },
        {
            "state not hex",
            "   2: 00000000:46A0 00000000:0000 LS 00000000:00000000 00:00000000 00000000     0        0 49335 1 000000001b210080 100 0 0 10 0",
            "st 'LS' is not 2 hex digits"
        },
        {
            "queues without a colon",
            "   2: 00000000:46A0 00000000:0000 0A 0000000000000000 00:00000000 00000000     0        0 49335 1 000000001b210080 100 0 0 10 0",
            "tx_queue:rx_queue '0000000000000000' is not two hex numbers joined by ':'"
        },
        {
            "retransmit count not hex",
            "   2: 00000000:46A0 00000000:0000 0A 00000000:00000000 00:00000000 0000000Z     0        0 49335 1 000000001b210080 100 0 0 10 0",
            "retrnsmt '0000000Z' is not a hex number"
        },
        {
            "uid as a name",
            "   2: 00000000:46A0 00000000:0000 0A 00000000:00000000 00:00000000 00000000  root        0 49335 1 000000001b210080 100 0 0 10 0",
            "uid 'root' is not a decimal number up to 2147483647"
        },
        {
            "uid beyond an int",
            "   2: 00000000:46A0 00000000:0000 0A 00000000:00000000 00:00000000 00000000 4294967295        0 49335 1 000000001b210080 100 0 0 10 0",
            "uid '4294967295' is not a decimal number up to 2147483647"
        },
        {
            "timeout not a number",
            "   2: 00000000:46A0 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        x 49335 1 000000001b210080 100 0 0 10 0",
            "timeout 'x' is not a decimal number"
        },
        {
            "inode in hex",
            "   2: 00000000:46A0 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 C0B7 1 000000001b210080 100 0 0 10 0",
            "inode 'C0B7' is not a decimal number up to 9223372036854775807"
        },
        {
            "slot without its colon",
            "   2 00000000:46A0 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 49335 1 000000001b210080 100 0 0 10 0",
            "sl '2' is not a slot number followed by ':'"
        },
        {
            "binary garbage",
            "\u0001\u0002garbage\u007f",
            "sl 'garbage\u007f' is not a slot number followed by ':'" // control bytes separate columns, like spaces
        },
        {
            "a second header in the middle",
            Header,
            "sl 'sl' is not a slot number followed by ':'"
        },
    };

    [Theory]
    [MemberData(nameof(DamagedIPv4Lines))]
    public void A_damaged_IPv4_line_is_skipped_counted_and_explained(string name, string damaged, string message)
    {
        var text = string.Join('\n', Header, GoodBefore, damaged, GoodAfter) + "\n";

        var sockets = Parse(text, IpVersion.IPv4, out var malformed);

        Assert.Equal([49336L, 49339L], sockets.Select(s => s.Inode));
        Assert.True(malformed.Count == 1, $"{name}: expected one malformed line, got {malformed.Count}");
        var sample = Assert.Single(malformed.Samples);
        Assert.StartsWith("/proc/net/tcp:3: ", sample);
        Assert.Contains(message, sample);
        Assert.EndsWith(damaged, sample);
    }

    public static TheoryData<string, string, string> DamagedIPv6Lines => new()
    {
        {
            "non-hex IPv6 address",
            "   2: 0000000000000000000000000100000Z:DC88 00000000000000000000000001000000:46A3 01 00000000:00000007 00:00000000 00000000     0        0 49341 2 000000004543ccad 20 4 30 10 -1",
            "local_address '0000000000000000000000000100000Z:DC88' has an address part '0000000000000000000000000100000Z' that is not 32 hex digits"
        },
        {
            "an IPv4 address in the IPv6 table",
            "   2: 0100007F:DC88 00000000000000000000000001000000:46A3 01 00000000:00000007 00:00000000 00000000     0        0 49341 2 000000004543ccad 20 4 30 10 -1",
            "local_address '0100007F:DC88' has an address part '0100007F' that is not 32 hex digits"
        },
        {
            "port out of range (5 hex digits)",
            "   2: 00000000000000000000000001000000:DC88 00000000000000000000000001000000:146A3 01 00000000:00000007 00:00000000 00000000     0        0 49341 2 000000004543ccad 20 4 30 10 -1",
            "rem_address '00000000000000000000000001000000:146A3' has a port part '146A3' that is not 4 hex digits (0000-FFFF)"
        },
    };

    [Theory]
    [MemberData(nameof(DamagedIPv6Lines))]
    public void A_damaged_IPv6_line_is_skipped_counted_and_explained(string name, string damaged, string message)
    {
        var text = string.Join('\n', Tcp6Header, Good6Before, damaged, Good6After) + "\n";

        var sockets = Parse(text, IpVersion.IPv6, out var malformed);

        Assert.Equal([49338L, 49340L], sockets.Select(s => s.Inode));
        Assert.True(malformed.Count == 1, $"{name}: expected one malformed line, got {malformed.Count}");
        Assert.Contains(message, Assert.Single(malformed.Samples));
    }

    [Fact]
    public void Extra_trailing_columns_are_accepted_because_kernels_append_fields()
    {
        // Decision: only sl..inode are read. TCP, UDP (drops), TIME_WAIT (shorter) and newer kernels differ in
        // what follows inode, so anything after it is accepted unread rather than rejected.
        var extra = GoodBefore + " 42 0xdeadbeef some-future-field";

        var sockets = Parse(string.Join('\n', Header, extra, GoodAfter), IpVersion.IPv4, out var malformed);

        Assert.Equal(0, malformed.Count);
        Assert.Equal([49336L, 49339L], sockets.Select(s => s.Inode));
    }

    [Fact]
    public void Exactly_the_ten_required_columns_are_enough()
    {
        var bare = "   1: 0100007F:46A1 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 49336";

        var socket = Assert.Single(Parse(bare, IpVersion.IPv4, out var malformed));

        Assert.Equal(0, malformed.Count);
        Assert.Equal("TCP IPv4 127.0.0.1:18081 0.0.0.0:0 LISTEN q=0:0 uid=0 inode=49336", Describe(socket));
    }

    [Fact]
    public void An_empty_file_has_no_sockets_and_nothing_malformed()
    {
        var sockets = Parse(FixtureTable("empty", "tcp"), IpVersion.IPv4, out var malformed);

        Assert.Empty(sockets);
        Assert.Equal(0, malformed.Count);
    }

    [Theory]
    [InlineData("with its newline")]
    [InlineData("without a newline")]
    [InlineData("with CRLF")]
    public void A_header_only_file_has_no_sockets_and_nothing_malformed(string variant)
    {
        var header = Encoding.UTF8.GetString(FixtureTable("header-only", "tcp"));
        var text = variant switch
        {
            "without a newline" => header.TrimEnd('\n'),
            "with CRLF" => header.Replace("\n", "\r\n"),
            _ => header,
        };

        var sockets = Parse(text, IpVersion.IPv4, out var malformed);

        Assert.Empty(sockets);
        Assert.Equal(0, malformed.Count);
    }

    [Fact]
    public void CRLF_line_ends_read_the_same_sockets_as_LF()
    {
        var crlf = Parse(FixtureTable("crlf", "tcp"), IpVersion.IPv4, out var crlfMalformed);
        var lf = Parse(FixtureTable("ipv4-only", "tcp"), IpVersion.IPv4, out var lfMalformed);

        Assert.Contains("\r\n", Encoding.UTF8.GetString(FixtureTable("crlf", "tcp")));
        Assert.Equal(0, crlfMalformed.Count + lfMalformed.Count);
        Assert.Equal(10, lf.Count);
        Assert.Equal(lf.Select(Describe), crlf.Select(Describe));
    }

    [Fact]
    public void Blank_lines_and_a_missing_final_newline_are_not_errors()
    {
        var text = Header + "\n\n" + GoodBefore + "\n   \n\r\n" + GoodAfter;

        var sockets = Parse(text, IpVersion.IPv4, out var malformed);

        Assert.Equal([49336L, 49339L], sockets.Select(s => s.Inode));
        Assert.Equal(0, malformed.Count);
    }

    [Fact]
    public void A_100000_line_table_is_read_whole()
    {
        var (text, rows) = ProcNetTableGenerator.Tcp(100_000);

        var sockets = Parse(text, IpVersion.IPv4, out var malformed);

        Assert.Equal(0, malformed.Count);
        Assert.Equal(100_000, sockets.Count);
        Assert.Equal(rows.Select(r => r.Inode), sockets.Select(s => s.Inode));
        Assert.Equal(rows.Count(r => r.KernelState == 6), sockets.Count(s => s.State == SocketState.TimeWait));
    }

    [Fact]
    public void A_100000_line_table_with_damaged_lines_reads_every_other_line_and_counts_each_damaged_one()
    {
        var (text, rows) = ProcNetTableGenerator.Tcp(100_000);
        var lines = text.Split('\n');
        var damagedLineNumbers = new List<int>();
        for (var i = 5_000; i <= 100_000; i += 5_000)
        {
            lines[i] = lines[i][..30]; // line i + 1 of the file; socket i - 1
            damagedLineNumbers.Add(i + 1);
        }

        var sockets = Parse(string.Join('\n', lines), IpVersion.IPv4, out var malformed);

        Assert.Equal(20, malformed.Count);
        Assert.Equal(100_000 - 20, sockets.Count);
        Assert.Equal(MalformedInput.SamplesKept, malformed.Samples.Count);
        Assert.Equal(
            damagedLineNumbers.Take(MalformedInput.SamplesKept).Select(n => $"/proc/net/tcp:{n}: "),
            malformed.Samples.Select(s => s[..(s.IndexOf(": ", StringComparison.Ordinal) + 2)]));
        var kept = rows.Where((_, i) => (i + 1) % 5_000 != 0).Select(r => r.Inode);
        Assert.Equal(kept, sockets.Select(s => s.Inode));
    }

    [Fact]
    public void The_reader_reads_the_good_lines_of_a_broken_proc_root_and_reports_the_rest()
    {
        var read = new ProcNetReader(FixtureRoot("broken")).Read(TestContext.Current.CancellationToken);

        Assert.Equal(7 + 3, read.Sockets.Count);
        Assert.Equal(4, read.Malformed.Count);
        Assert.Collection(
            read.Malformed.Samples,
            s => Assert.Contains("/net/tcp:3: tx_queue:rx_queue '000' is not two hex numbers joined by ':'", s),
            s => Assert.Contains("/net/tcp:5: local_address '0000000G:07E8' has an address part", s),
            s => Assert.Contains("/net/tcp:7: local_address '020200C0:E2DC0' has a port part 'E2DC0'", s),
            s => Assert.Contains("/net/udp:2: sl '", s));
    }

    private static List<Socket> Parse(string text, IpVersion family, out MalformedInput malformed) =>
        Parse(Encoding.UTF8.GetBytes(text), family, out malformed);

    private static List<Socket> Parse(byte[] content, IpVersion family, out MalformedInput malformed)
    {
        var sockets = new List<Socket>();
        malformed = new MalformedInput();
        ProcNetParser.Parse(content, TransportProtocol.Tcp, family, sockets, malformed, family == IpVersion.IPv4 ? "/proc/net/tcp" : "/proc/net/tcp6");
        return sockets;
    }
}
