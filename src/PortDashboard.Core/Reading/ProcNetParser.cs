using System.Buffers.Binary;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Core.Reading;

/// <summary>
/// Parses the text of <c>/proc/net/{tcp,tcp6,udp,udp6}</c> from bytes, allocating nothing per line but the
/// <see cref="Socket"/> itself.
/// </summary>
/// <remarks>
/// <para>A line is <c>sl local_address rem_address st tx_queue:rx_queue tr:tm-&gt;when retrnsmt uid timeout inode</c>
/// followed by more columns that differ between TCP, UDP, TIME_WAIT and kernel versions. Those ten columns are
/// checked and read; anything after <c>inode</c> is accepted unread, because kernels append fields.</para>
/// <para>Addresses are the kernel's in-memory words printed as hex: IPv4 is one little-endian 32-bit word, IPv6
/// four of them; the port is four hex digits in host order. A state number the kernel does not define today is kept
/// as <see cref="SocketState.Unknown"/> rather than dropped (kernels add states, as they add columns).</para>
/// <para>A line that cannot be read is skipped and recorded in <see cref="MalformedInput"/> with its line number,
/// the column at fault and the raw text; the rest of the file is read and nothing throws. The first line is
/// skipped when it is the header; blank lines are ignored; <c>\r\n</c> line ends are accepted.</para>
/// </remarks>
public static class ProcNetParser
{
    /// <summary>The columns read, in the kernel's header words.</summary>
    internal static readonly string[] ColumnNames =
        ["sl", "local_address", "rem_address", "st", "tx_queue:rx_queue", "tr:tm->when", "retrnsmt", "uid", "timeout", "inode"];

    /// <summary>How many columns a line needs: <c>sl</c> through <c>inode</c>.</summary>
    public const int ColumnsRequired = 10;

    private const int QuotedTextLimit = 48;

    public static void Parse(
        ReadOnlySpan<byte> content,
        TransportProtocol protocol,
        IpVersion family,
        List<Socket> into,
        MalformedInput malformed,
        string source)
    {
        var lineNumber = 0;
        while (!content.IsEmpty)
        {
            lineNumber++;
            ReadOnlySpan<byte> line;
            var newline = content.IndexOf((byte)'\n');
            if (newline < 0)
            {
                line = content;
                content = default;
            }
            else
            {
                line = content[..newline];
                content = content[(newline + 1)..];
            }

            if (lineNumber == 1 && line.IndexOf("local_address"u8) >= 0)
            {
                continue; // the header
            }

            var error = TryParseLine(line, protocol, family, out var socket);
            if (socket is not null)
            {
                into.Add(socket);
            }
            else if (error is not null)
            {
                malformed.Add($"{source}:{lineNumber}", error, line);
            }
        }
    }

    /// <summary>
    /// Parses one table line. Returns null with a socket on success, null without one for a blank line, and
    /// otherwise why the line was rejected, naming the column at fault.
    /// </summary>
    internal static string? TryParseLine(ReadOnlySpan<byte> line, TransportProtocol protocol, IpVersion family, out Socket? socket)
    {
        socket = null;
        if (!TryParseKernelLayout(line, family, out var fields))
        {
            var error = TryParseColumns(line, family, out fields, out var blank);
            if (error is not null || blank)
            {
                return error;
            }
        }

        socket = new Socket(
            protocol,
            family,
            fields.Local,
            fields.Remote,
            SocketStates.FromKernel(protocol, fields.State),
            (long)fields.Inode,
            (int)fields.Uid,
            (long)fields.TransmitQueue,
            (long)fields.ReceiveQueue);
        return null;
    }

    /// <summary>
    /// The fast path: a line exactly as the kernel prints it, whose columns from <c>local_address</c> to
    /// <c>retrnsmt</c> have fixed widths (<c>%08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X</c>, IPv6 with
    /// 32-digit addresses), is read at fixed offsets without splitting. Anything else returns false and goes to
    /// <see cref="TryParseColumns"/>, which accepts the same lines and more, and explains rejections; so this path
    /// only ever decides speed, never the result.
    /// </summary>
    private static bool TryParseKernelLayout(ReadOnlySpan<byte> line, IpVersion family, out Fields fields)
    {
        fields = default;
        var p = 0;
        while ((uint)p < (uint)line.Length && line[p] == (byte)' ')
        {
            p++;
        }

        var digits = p;
        while ((uint)p < (uint)line.Length && (uint)(line[p] - '0') <= 9)
        {
            p++;
        }

        if (p == digits || p - digits > 10 || (uint)p >= (uint)line.Length || line[p] != (byte)':')
        {
            return false;
        }

        // " LLLLLLLL:PPPP RRRRRRRR:PPPP SS TTTTTTTT:RRRRRRRR TR:WHENWHEN RETRRETR " with a = 8 (IPv4) or 32 (IPv6).
        var a = family == IpVersion.IPv4 ? 8 : 32;
        var fixedLength = (2 * a) + 55;
        if (line.Length - (p + 1) < fixedLength)
        {
            return false;
        }

        var f = line.Slice(p + 1, fixedLength);
        var r = a + 6; // where the remote address column starts, counting its leading space
        var q = (2 * a) + 15; // where the state is followed by its space
        if (f[0] != (byte)' ' || f[a + 1] != (byte)':' || f[r] != (byte)' ' || f[r + a + 1] != (byte)':'
            || f[q - 3] != (byte)' ' || f[q] != (byte)' ' || f[q + 9] != (byte)':' || f[q + 18] != (byte)' '
            || f[q + 21] != (byte)':' || f[q + 30] != (byte)' ' || f[q + 39] != (byte)' ')
        {
            return false;
        }

        if (!TryParseAddress(f.Slice(1, a), out var localAddress)
            || !TryParseHex(f.Slice(a + 2, 4), out var localPort)
            || !TryParseAddress(f.Slice(r + 1, a), out var remoteAddress)
            || !TryParseHex(f.Slice(r + a + 2, 4), out var remotePort)
            || !TryParseHex(f.Slice(q - 2, 2), out var state)
            || !TryParseHex8(f.Slice(q + 1, 8), out var tx)
            || !TryParseHex8(f.Slice(q + 10, 8), out var rx)
            || !TryParseHex(f.Slice(q + 19, 2), out _)
            || !TryParseHex8(f.Slice(q + 22, 8), out _)
            || !TryParseHex8(f.Slice(q + 31, 8), out _))
        {
            return false;
        }

        var columns = new ColumnCursor(line[(p + 1 + fixedLength)..]);
        if (!columns.TryNext(out var uidText) || !TryParseDecimal(uidText, 10, out var uid) || uid > int.MaxValue
            || !columns.TryNext(out var timeoutText) || !IsTimeout(timeoutText)
            || !columns.TryNext(out var inodeText) || !TryParseDecimal(inodeText, 19, out var inode) || inode > long.MaxValue)
        {
            return false;
        }

        fields = new Fields(new Endpoint(localAddress, (int)localPort), new Endpoint(remoteAddress, (int)remotePort), (int)state, tx, rx, uid, inode);
        return true;
    }

    /// <summary>The general path: splits the line into columns and checks each in turn, naming the first that is wrong.</summary>
    private static string? TryParseColumns(ReadOnlySpan<byte> line, IpVersion family, out Fields fields, out bool blank)
    {
        fields = default;
        blank = false;
        var columns = new ColumnCursor(line);
        if (!columns.TryNext(out var column))
        {
            blank = true; // or only white space, e.g. a lone '\r'
            return null;
        }

        if (column.Length < 2 || column[^1] != (byte)':' || !TryParseDecimal(column[..^1], 10, out _))
        {
            return Rejected(0, column, "is not a slot number followed by ':'");
        }

        if (!columns.TryNext(out column))
        {
            return Missing(columns.Count);
        }

        if (!TryParseEndpoint(column, family, out var local, out var problem))
        {
            return Rejected(1, column, problem);
        }

        if (!columns.TryNext(out column))
        {
            return Missing(columns.Count);
        }

        if (!TryParseEndpoint(column, family, out var remote, out problem))
        {
            return Rejected(2, column, problem);
        }

        if (!columns.TryNext(out column))
        {
            return Missing(columns.Count);
        }

        if (column.Length != 2 || !TryParseHex(column, out var kernelState))
        {
            return Rejected(3, column, "is not 2 hex digits");
        }

        if (!columns.TryNext(out column))
        {
            return Missing(columns.Count);
        }

        if (!TryParseHexPair(column, out var tx, out var rx) || tx > long.MaxValue || rx > long.MaxValue)
        {
            return Rejected(4, column, "is not two hex numbers joined by ':'");
        }

        if (!columns.TryNext(out column))
        {
            return Missing(columns.Count);
        }

        if (!TryParseHexPair(column, out _, out _))
        {
            return Rejected(5, column, "is not two hex numbers joined by ':'");
        }

        if (!columns.TryNext(out column))
        {
            return Missing(columns.Count);
        }

        if (!TryParseHex(column, out _))
        {
            return Rejected(6, column, "is not a hex number");
        }

        if (!columns.TryNext(out column))
        {
            return Missing(columns.Count);
        }

        if (!TryParseDecimal(column, 10, out var uid) || uid > int.MaxValue)
        {
            return Rejected(7, column, "is not a decimal number up to 2147483647");
        }

        if (!columns.TryNext(out column))
        {
            return Missing(columns.Count);
        }

        if (!IsTimeout(column))
        {
            return Rejected(8, column, "is not a decimal number");
        }

        if (!columns.TryNext(out column))
        {
            return Missing(columns.Count);
        }

        if (!TryParseDecimal(column, 19, out var inode) || inode > long.MaxValue)
        {
            return Rejected(9, column, "is not a decimal number up to 9223372036854775807");
        }

        fields = new Fields(local, remote, (int)kernelState, tx, rx, uid, inode);
        return null;
    }

    /// <summary>
    /// Parses <c>0100007F:0CEA</c> (IPv4: 8 hex digits, a colon, 4 hex digits) or 32 hex digits, a colon and
    /// 4 hex digits (IPv6). On failure <paramref name="problem"/> says which part was wrong.
    /// </summary>
    internal static bool TryParseEndpoint(ReadOnlySpan<byte> text, IpVersion family, out Endpoint endpoint, out string problem)
    {
        endpoint = default;
        var addressDigits = family == IpVersion.IPv4 ? 8 : 32;
        var colon = text.IndexOf((byte)':');
        if (colon < 0)
        {
            problem = "has no ':' between address and port";
            return false;
        }

        var addressHex = text[..colon];
        var portHex = text[(colon + 1)..];
        if (addressHex.Length != addressDigits || !TryParseAddress(addressHex, out var address))
        {
            problem = $"has an address part '{Quote(addressHex)}' that is not {addressDigits} hex digits";
            return false;
        }

        if (portHex.Length != 4 || !TryParseHex(portHex, out var port))
        {
            problem = $"has a port part '{Quote(portHex)}' that is not 4 hex digits (0000-FFFF)";
            return false;
        }

        endpoint = new Endpoint(address, (int)port);
        problem = string.Empty;
        return true;
    }

    /// <summary>8 hex digits (one little-endian word: IPv4) or 32 (four little-endian words: IPv6).</summary>
    private static bool TryParseAddress(ReadOnlySpan<byte> hex, out NetAddress address)
    {
        address = default;
        if (hex.Length == 8)
        {
            if (!TryParseHex8(hex, out var word))
            {
                return false;
            }

            address = NetAddress.FromIPv4(BinaryPrimitives.ReverseEndianness(word));
            return true;
        }

        if (!TryParseHex8(hex[..8], out var w0)
            | !TryParseHex8(hex[8..16], out var w1)
            | !TryParseHex8(hex[16..24], out var w2)
            | !TryParseHex8(hex[24..32], out var w3))
        {
            return false;
        }

        address = NetAddress.FromIPv6(Join(w0, w1), Join(w2, w3));
        return true;

        static ulong Join(uint first, uint second) =>
            ((ulong)BinaryPrimitives.ReverseEndianness(first) << 32) | BinaryPrimitives.ReverseEndianness(second);
    }

    /// <summary><c>hex:hex</c>, as in <c>tx_queue:rx_queue</c> and <c>tr:tm-&gt;when</c>.</summary>
    private static bool TryParseHexPair(ReadOnlySpan<byte> text, out ulong first, out ulong second)
    {
        second = 0;
        var colon = text.IndexOf((byte)':');
        if (colon < 0)
        {
            first = 0;
            return false;
        }

        return TryParseHex(text[..colon], out first) & TryParseHex(text[(colon + 1)..], out second);
    }

    /// <summary>1 to 16 hex digits, either case.</summary>
    private static bool TryParseHex(ReadOnlySpan<byte> text, out ulong value)
    {
        value = 0;
        if ((uint)(text.Length - 1) > 15)
        {
            return false;
        }

        var seen = 0;
        ulong result = 0;
        foreach (var b in text)
        {
            int digit = HexValues[b];
            seen |= digit;
            result = (result << 4) | (uint)digit;
        }

        value = result;
        return seen <= 0xF; // an invalid byte maps to 0xFF
    }

    /// <summary>
    /// Exactly 8 hex digits, either case, eight at a time in one 64-bit word (SWAR): the text's first byte is the
    /// word's lowest, each byte is checked to be 0-9, A-F or a-f, turned into its nibble, and the nibbles packed.
    /// </summary>
    private static bool TryParseHex8(ReadOnlySpan<byte> text, out uint value)
    {
        const ulong Ones = 0x0101010101010101;
        const ulong High = 0x8080808080808080;
        var v = BinaryPrimitives.ReadUInt64LittleEndian(text[..8]);
        var folded = v | (0x20 * Ones); // A-F to a-f (v itself decides digits, so 0x10-0x19 cannot pass as 0-9)

        // For bytes below 0x80, (x + 0x80 - n) has its top bit set exactly when x >= n.
        var digit = (v + ((0x80 - 0x30) * Ones)) & ~(v + ((0x80 - 0x3A) * Ones));
        var letter = (folded + ((0x80 - 0x61) * Ones)) & ~(folded + ((0x80 - 0x67) * Ones));
        if ((((digit | letter) & High) != High) | ((v & High) != 0))
        {
            value = 0;
            return false;
        }

        var nibbles = (v & (0x0F * Ones)) + (((v >> 6) & Ones) * 9); // letters have bit 6 set: 'A' & 0xF = 1, + 9
        var bytes = ((nibbles & 0x00FF00FF00FF00FF) << 4) | ((nibbles >> 8) & 0x00FF00FF00FF00FF);
        var halves = ((bytes & 0x0000FFFF0000FFFF) << 8) | ((bytes >> 16) & 0x0000FFFF0000FFFF);
        value = (uint)(((halves & 0xFFFFFFFF) << 16) | (halves >> 32));
        return true;
    }

    /// <summary>The <c>timeout</c> column: a decimal number, possibly negative.</summary>
    private static bool IsTimeout(ReadOnlySpan<byte> text) =>
        TryParseDecimal(text.Length > 1 && text[0] == (byte)'-' ? text[1..] : text, 10, out _);

    /// <summary>1 to <paramref name="maxDigits"/> (at most 19) decimal digits.</summary>
    private static bool TryParseDecimal(ReadOnlySpan<byte> text, int maxDigits, out ulong value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > maxDigits)
        {
            return false;
        }

        ulong result = 0;
        foreach (var b in text)
        {
            var digit = (uint)(b - '0');
            if (digit > 9)
            {
                return false;
            }

            result = (result * 10) + digit;
        }

        value = result;
        return true;
    }

    private static string Rejected(int column, ReadOnlySpan<byte> text, string problem) =>
        $"{ColumnNames[column]} '{Quote(text)}' {problem}";

    private static string Missing(int found) =>
        $"the line ends after {found} column{(found == 1 ? "" : "s")}: '{ColumnNames[found]}' is missing "
        + $"(a line needs at least {ColumnsRequired} columns, sl through inode)";

    private static string Quote(ReadOnlySpan<byte> text) =>
        text.Length <= QuotedTextLimit
            ? System.Text.Encoding.UTF8.GetString(text)
            : System.Text.Encoding.UTF8.GetString(text[..QuotedTextLimit]) + "…";

    /// <summary>Walks a line's columns: runs of bytes above ' ', separated by spaces (or any control byte).</summary>
    private ref struct ColumnCursor(ReadOnlySpan<byte> line)
    {
        private readonly ReadOnlySpan<byte> _line = line;
        private int _position;

        /// <summary>How many columns have been returned so far.</summary>
        public int Count { get; private set; }

        public bool TryNext(out ReadOnlySpan<byte> column)
        {
            var line = _line;
            var i = _position;
            while ((uint)i < (uint)line.Length && line[i] <= (byte)' ')
            {
                i++;
            }

            var start = i;
            while ((uint)i < (uint)line.Length && line[i] > (byte)' ')
            {
                i++;
            }

            _position = i;
            if (i == start)
            {
                column = default;
                return false;
            }

            column = line[start..i];
            Count++;
            return true;
        }
    }

    private readonly record struct Fields(
        Endpoint Local, Endpoint Remote, int State, ulong TransmitQueue, ulong ReceiveQueue, ulong Uid, ulong Inode);

    /// <summary>Each byte's value as a hex digit, or 0xFF.</summary>
    private static ReadOnlySpan<byte> HexValues =>
    [
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    ];
}
