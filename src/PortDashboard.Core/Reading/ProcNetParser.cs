using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.Intrinsics;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Core.Reading;

/// <summary>
/// Parses the text of <c>/proc/net/{tcp,tcp6,udp,udp6}</c> from bytes, allocating nothing per line but the
/// <see cref="Socket"/> itself. Lines exactly as the kernel prints them take a fast path (fixed offsets, 8 hex digits
/// at a time); any other line is split into columns and checked one column at a time, with the same result.
/// </summary>
/// <remarks>
/// <para>A line is <c>sl local_address rem_address st tx_queue:rx_queue tr:tm-&gt;when retrnsmt uid timeout inode</c>
/// followed by more columns that differ between TCP, UDP, TIME_WAIT and kernel versions. Those ten columns are
/// checked and read; anything after <c>inode</c> is accepted unread, because kernels append fields.</para>
/// <para>Addresses are the kernel's in-memory words printed as hex: IPv4 is one little-endian 32-bit word, IPv6
/// four of them; the port is its number in four hex digits. A state number the kernel does not define today is kept
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
    internal const int ColumnsRequired = 10;

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
    /// otherwise why the line was rejected, naming the column at fault. <paramref name="kernelLayoutFirst"/> false
    /// skips the fast path (tests check that both paths agree).
    /// </summary>
    internal static string? TryParseLine(
        ReadOnlySpan<byte> line, TransportProtocol protocol, IpVersion family, out Socket? socket, bool kernelLayoutFirst = true)
    {
        socket = null;
        if (!kernelLayoutFirst || !TryParseKernelLayout(line, family, out var fields))
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
    /// The fast path, for a line exactly as the kernel prints it. From the space before <c>local_address</c> to the
    /// space after <c>retrnsmt</c> the kernel's columns have fixed widths (<c>%08X:%04X %08X:%04X %02X %08X:%08X
    /// %02X:%08lX %08X</c>; IPv6 addresses have 32 digits), so that run is checked against a template 16 bytes at
    /// a time and its numbers are read at fixed offsets; <c>uid</c>, <c>timeout</c> and <c>inode</c> are checked from
    /// one 32-byte read when they have the kernel's widths, else read byte by byte. Anything else returns false and goes to <see cref="TryParseColumns"/>, which accepts the same lines
    /// and more and explains rejections: this path only ever decides speed, never the result.
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

        var layout = family == IpVersion.IPv4 ? KernelLayout.IPv4 : KernelLayout.IPv6;
        var f = line[(p + 1)..];
        if (f.Length < layout.BlockLength || !layout.Matches(f))
        {
            return false; // not the kernel's layout (or too short to check 16 bytes at a time): the general path decides
        }

        var a = layout.AddressDigits;
        var r = a + 6; // the space before rem_address
        var q = (2 * a) + 15; // the space after st
        var position = p + 1 + layout.Length;
        if (!TryReadKernelTail(line[position..], out var uid, out var inode))
        {
            if (!TryReadDecimal(line, ref position, 10, out uid) || uid > int.MaxValue
                || !TryReadTimeout(line, ref position)
                || !TryReadDecimal(line, ref position, 19, out inode) || inode > long.MaxValue)
            {
                return false;
            }
        }

        fields = new Fields(
            new Endpoint(Address(f.Slice(1, a)), (int)Hex4(f.Slice(a + 2, 4))),
            new Endpoint(Address(f.Slice(r + 1, a)), (int)Hex4(f.Slice(r + a + 2, 4))),
            (int)((Nibble(f[q - 2]) << 4) | Nibble(f[q - 1])),
            PackHex8(f.Slice(q + 1, 8)),
            PackHex8(f.Slice(q + 10, 8)),
            uid,
            inode);
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

    /// <summary>8 hex digits (one little-endian word: IPv4) or 32 (four little-endian words: IPv6), checked.</summary>
    private static bool TryParseAddress(ReadOnlySpan<byte> hex, out NetAddress address)
    {
        var allHex = true;
        for (var i = 0; i < hex.Length; i += 8)
        {
            allHex &= AllHex(BinaryPrimitives.ReadUInt64LittleEndian(hex.Slice(i, 8)));
        }

        address = allHex ? Address(hex) : default;
        return allHex;
    }

    /// <summary>An address from 8 or 32 hex digits already known to be hex: each word as it sits in a little-endian kernel's memory.</summary>
    private static NetAddress Address(ReadOnlySpan<byte> hex)
    {
        if (hex.Length == 8)
        {
            return NetAddress.FromIPv4(BinaryPrimitives.ReverseEndianness(PackHex8(hex)));
        }

        return NetAddress.FromIPv6(Join(PackHex8(hex[..8]), PackHex8(hex[8..16])), Join(PackHex8(hex[16..24]), PackHex8(hex[24..32])));

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

    // Eight hex digits at a time in one 64-bit word (SWAR): the text's first byte is the word's lowest byte.
    private const ulong Ones = 0x0101010101010101;
    private const ulong High = 0x8080808080808080;

    /// <summary>Whether all eight bytes of <paramref name="v"/> are 0-9, A-F or a-f.</summary>
    private static bool AllHex(ulong v)
    {
        var folded = v | (0x20 * Ones); // A-F to a-f (v itself decides digits, so 0x10-0x19 cannot pass as 0-9)

        // For bytes below 0x80, (x + 0x80 - n) has its top bit set exactly when x >= n.
        var digit = (v + ((0x80 - 0x30) * Ones)) & ~(v + ((0x80 - 0x3A) * Ones));
        var letter = (folded + ((0x80 - 0x61) * Ones)) & ~(folded + ((0x80 - 0x67) * Ones));
        return (((digit | letter) & High) == High) & ((v & High) == 0);
    }

    /// <summary>The value of 8 bytes already known to be hex digits: each becomes its nibble, and the nibbles are packed.</summary>
    private static uint PackHex8(ulong v)
    {
        var nibbles = (v & (0x0F * Ones)) + (((v >> 6) & Ones) * 9); // letters have bit 6 set: 'A' & 0xF = 1, + 9
        var bytes = ((nibbles & 0x00FF00FF00FF00FF) << 4) | ((nibbles >> 8) & 0x00FF00FF00FF00FF);
        var halves = ((bytes & 0x0000FFFF0000FFFF) << 8) | ((bytes >> 16) & 0x0000FFFF0000FFFF);
        return (uint)(((halves & 0xFFFFFFFF) << 16) | (halves >> 32));
    }

    private static uint PackHex8(ReadOnlySpan<byte> eightDigits) => PackHex8(BinaryPrimitives.ReadUInt64LittleEndian(eightDigits));

    /// <summary>4 known hex digits: read as "0000" followed by them.</summary>
    private static uint Hex4(ReadOnlySpan<byte> fourDigits) =>
        PackHex8(((ulong)BinaryPrimitives.ReadUInt32LittleEndian(fourDigits) << 32) | 0x30303030);

    private static uint Nibble(byte hexDigit) => (uint)((hexDigit & 0xF) + (9 * (hexDigit >> 6)));

    /// <summary>
    /// <c>uid timeout inode</c> as the kernel prints them (<c>%5u %8d %lu</c>): a right-aligned uid in 5 bytes, a space,
    /// a right-aligned timeout in 8, a space, then the inode's digits up to a separator, all checked from one 32-byte
    /// read (a uid of 6 digits or more, or a line too short, returns false for the byte-by-byte reading).
    /// </summary>
    private static bool TryReadKernelTail(ReadOnlySpan<byte> tail, out ulong uid, out ulong inode)
    {
        uid = inode = 0;
        if (tail.Length < 32)
        {
            return false;
        }

        var low = Vector128.Create(tail[..16]);
        var high = Vector128.Create(tail.Slice(16, 16));
        var zero = Vector128.Create((byte)'0');
        var ten = Vector128.Create((byte)10);
        var space = Vector128.Create((byte)' ');
        var digits = Vector128.LessThan(low - zero, ten).ExtractMostSignificantBits()
            | (Vector128.LessThan(high - zero, ten).ExtractMostSignificantBits() << 16);
        var spaces = Vector128.Equals(low, space).ExtractMostSignificantBits()
            | (Vector128.Equals(high, space).ExtractMostSignificantBits() << 16);
        var separators = Vector128.LessThanOrEqual(low, space).ExtractMostSignificantBits()
            | (Vector128.LessThanOrEqual(high, space).ExtractMostSignificantBits() << 16);

        // Bytes 0-4: spaces then at least one digit; 5: a space; 6-13: the same; 14: a space; 15...: the inode.
        var inodeDigits = BitOperations.TrailingZeroCount(~(digits >> 15));
        if (!IsRightAligned(spaces, digits, 0, 5) || !IsRightAligned(spaces, digits, 6, 8)
            || (spaces & ((1u << 5) | (1u << 14))) != ((1u << 5) | (1u << 14))
            || inodeDigits is 0 or > 16 || (separators & (1u << (15 + inodeDigits))) == 0)
        {
            return false;
        }

        for (var i = 0; i < 5; i++)
        {
            uid = (uid * 10) + (uint)(tail[i] & 0xF); // a leading space counts as 0
        }

        for (var i = 15; i < 15 + inodeDigits; i++)
        {
            inode = (inode * 10) + (uint)(tail[i] - '0');
        }

        return true;

        static bool IsRightAligned(uint spaces, uint digits, int start, int width)
        {
            var field = ((1u << width) - 1) << start;
            var leading = (spaces & field) >> start;
            return ((spaces | digits) & field) == field && (digits & field) != 0 && (leading & (leading + 1)) == 0;
        }
    }

    /// <summary>
    /// Skips separators from <paramref name="position"/>, then reads 1 to <paramref name="maxDigits"/> decimal digits
    /// that end at a separator or the end of the line (the same column <see cref="ColumnCursor"/> would find).
    /// </summary>
    private static bool TryReadDecimal(ReadOnlySpan<byte> line, ref int position, int maxDigits, out ulong value)
    {
        var i = position;
        while ((uint)i < (uint)line.Length && line[i] <= (byte)' ')
        {
            i++;
        }

        var start = i;
        ulong result = 0;
        while ((uint)i < (uint)line.Length)
        {
            var digit = (uint)(line[i] - '0');
            if (digit > 9)
            {
                break;
            }

            result = (result * 10) + digit;
            i++;
        }

        position = i;
        value = result;
        var count = i - start;
        return count > 0 && count <= maxDigits && ((uint)i >= (uint)line.Length || line[i] <= (byte)' ');
    }

    /// <summary><see cref="TryReadDecimal"/> for the <c>timeout</c> column, which may be negative.</summary>
    private static bool TryReadTimeout(ReadOnlySpan<byte> line, ref int position)
    {
        while ((uint)position < (uint)line.Length && line[position] <= (byte)' ')
        {
            position++;
        }

        if ((uint)position < (uint)line.Length && line[position] == (byte)'-')
        {
            position++;
            if ((uint)position >= (uint)line.Length || line[position] <= (byte)' ')
            {
                return false; // a lone '-'
            }
        }

        return TryReadDecimal(line, ref position, 10, out _);
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

    /// <summary>
    /// The fixed-width run of a kernel line, from the space before <c>local_address</c> to the space after
    /// <c>retrnsmt</c>, as a template: <c>h</c> a hex digit, <c>' '</c> and <c>':'</c> themselves.
    /// </summary>
    private sealed class KernelLayout
    {
        public static readonly KernelLayout IPv4 = new(8);
        public static readonly KernelLayout IPv6 = new(32);

        private readonly byte[] _hex;
        private readonly byte[] _separatorPositions;
        private readonly byte[] _separators;

        private KernelLayout(int addressDigits)
        {
            var address = new string('h', addressDigits);
            var template = $" {address}:hhhh {address}:hhhh hh hhhhhhhh:hhhhhhhh hh:hhhhhhhh hhhhhhhh ";
            AddressDigits = addressDigits;
            Length = template.Length;
            BlockLength = (Length + 15) / 16 * 16;
            _hex = new byte[BlockLength];
            _separatorPositions = new byte[BlockLength];
            _separators = new byte[BlockLength];
            for (var i = 0; i < Length; i++)
            {
                if (template[i] == 'h')
                {
                    _hex[i] = 0xFF;
                }
                else
                {
                    _separatorPositions[i] = 0xFF;
                    _separators[i] = (byte)template[i];
                }
            }
        }

        public int AddressDigits { get; }

        /// <summary>The run's length: 71 bytes for IPv4, 119 for IPv6.</summary>
        public int Length { get; }

        /// <summary><see cref="Length"/> rounded up to whole 16-byte blocks: how many bytes <see cref="Matches"/> reads.</summary>
        public int BlockLength { get; }

        /// <summary>Whether <paramref name="text"/> (at least <see cref="BlockLength"/> bytes) starts with this layout.</summary>
        public bool Matches(ReadOnlySpan<byte> text)
        {
            var zero = Vector128.Create((byte)'0');
            var ten = Vector128.Create((byte)10);
            var lower = Vector128.Create((byte)0x20);
            var a = Vector128.Create((byte)'a');
            var six = Vector128.Create((byte)6);
            var wrong = Vector128<byte>.Zero;
            for (var i = 0; i < BlockLength; i += 16)
            {
                var x = Vector128.Create(text.Slice(i, 16));
                var isHex = Vector128.LessThan(x - zero, ten) | Vector128.LessThan((x | lower) - a, six);
                wrong |= Vector128.AndNot(Vector128.Create(_hex.AsSpan(i, 16)), isHex)
                    | Vector128.AndNot(Vector128.Create(_separatorPositions.AsSpan(i, 16)), Vector128.Equals(x, Vector128.Create(_separators.AsSpan(i, 16))));
            }

            return wrong == Vector128<byte>.Zero;
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
