using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace PortDashboard.Core.Sockets;

/// <summary>
/// An IPv4 or IPv6 address held inline (no heap allocation), as numbers in network byte order read big-endian:
/// IPv4 occupies the low 32 bits of <see cref="_low"/> (127.0.0.1 is 0x7F000001); IPv6 is <see cref="_high"/>
/// (bytes 0–7) and <see cref="_low"/> (bytes 8–15). Parsing and formatting work on spans and allocate nothing.
/// Ordered IPv4 before IPv6, then numerically.
/// </summary>
public readonly struct NetAddress : IEquatable<NetAddress>, IComparable<NetAddress>, ISpanFormattable
{
    /// <summary>The longest address text there is (<c>ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255</c>): a buffer this long always holds what <see cref="TryFormat(Span{char}, out int, ReadOnlySpan{char}, IFormatProvider?)"/> writes.</summary>
    public const int MaxTextLength = 45;

    private readonly ulong _high;
    private readonly ulong _low;
    private readonly bool _isV6;

    private NetAddress(ulong high, ulong low, bool isV6)
    {
        _high = high;
        _low = low;
        _isV6 = isV6;
    }

    public static NetAddress AnyV4 { get; } = FromIPv4(0);

    public static NetAddress AnyV6 { get; } = FromIPv6(0, 0);

    public bool IsIPv6 => _isV6;

    /// <summary>0.0.0.0 or ::, shown as <c>*</c>.</summary>
    public bool IsWildcard => _high == 0 && _low == 0;

    /// <summary>::ffff:a.b.c.d</summary>
    public bool IsIPv4Mapped => _isV6 && _high == 0 && (_low >> 32) == 0xFFFF;

    /// <summary>127.0.0.0/8, ::1, and 127.0.0.0/8 mapped into IPv6.</summary>
    public bool IsLoopback => _isV6
        ? (_high == 0 && _low == 1) || (IsIPv4Mapped && ((uint)_low >> 24) == 127)
        : ((uint)_low >> 24) == 127;

    /// <summary>The address IPv4 code would see: a mapped IPv6 address becomes IPv4; anything else is unchanged.</summary>
    public NetAddress Unmapped => IsIPv4Mapped ? FromIPv4((uint)_low) : this;

    public int ByteLength => _isV6 ? 16 : 4;

    public AddressFamily AddressFamily => _isV6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;

    /// <summary>An IPv4 address from its bytes in network order read as a big-endian number (127.0.0.1 = 0x7F000001).</summary>
    public static NetAddress FromIPv4(uint hostOrderValue) => new(0, hostOrderValue, false);

    /// <summary>An IPv6 address from its two halves, each its 8 bytes in network order read as a big-endian number.</summary>
    public static NetAddress FromIPv6(ulong high, ulong low) => new(high, low, true);

    /// <summary>An address from its 4 or 16 bytes in network order.</summary>
    public static NetAddress FromBytes(ReadOnlySpan<byte> bytes) => bytes.Length switch
    {
        4 => FromIPv4(BinaryPrimitives.ReadUInt32BigEndian(bytes)),
        16 => FromIPv6(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..])),
        _ => throw new ArgumentException("An address has 4 or 16 bytes.", nameof(bytes)),
    };

    public static NetAddress FromIPAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        return FromBytes(bytes[..written]);
    }

    /// <summary>
    /// Parses <c>*</c> (0.0.0.0), a dotted-quad IPv4 address, or an IPv6 address (RFC 4291 text, optionally in
    /// brackets, with an optional dotted-quad tail). Strict, as <c>inet_pton</c>: no shorthand IPv4 forms
    /// (<c>127.1</c>, <c>0x7f.0.0.1</c>), no leading zeros in an IPv4 part, no zone, no port.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, out NetAddress address)
    {
        address = default;
        if (text is "*")
        {
            address = AnyV4;
            return true;
        }

        if (text.Length > 2 && text[0] == '[' && text[^1] == ']')
        {
            text = text[1..^1];
            return text.Contains(':') && TryParseIPv6(text, out address);
        }

        if (text.Contains(':'))
        {
            return TryParseIPv6(text, out address);
        }

        if (!TryParseIPv4(text, out var value))
        {
            return false;
        }

        address = FromIPv4(value);
        return true;
    }

    private static bool TryParseIPv4(ReadOnlySpan<char> text, out uint value)
    {
        value = 0;
        var parts = 0;
        var i = 0;
        while (true)
        {
            var start = i;
            var part = 0;
            while (i < text.Length && char.IsAsciiDigit(text[i]) && i - start < 3)
            {
                part = (part * 10) + (text[i] - '0');
                i++;
            }

            var digits = i - start;
            if (digits == 0 || part > 255 || (digits > 1 && text[start] == '0'))
            {
                return false;
            }

            value = (value << 8) | (uint)part;
            parts++;
            if (parts == 4)
            {
                return i == text.Length;
            }

            if (i == text.Length || text[i] != '.')
            {
                return false;
            }

            i++;
        }
    }

    private static bool TryParseIPv6(ReadOnlySpan<char> text, out NetAddress address)
    {
        address = default;
        if (text.Length > MaxTextLength)
        {
            return false;
        }

        Span<ushort> groups = stackalloc ushort[8];
        var count = 0;
        var gap = -1; // where "::" stands, as an index into groups
        var i = 0;
        if (text.StartsWith("::"))
        {
            gap = 0;
            i = 2;
        }

        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && char.IsAsciiHexDigit(text[i]))
            {
                i++;
            }

            if (i < text.Length && text[i] == '.')
            {
                // A dotted-quad tail: the last 32 bits.
                if (count > 6 || !TryParseIPv4(text[start..], out var v4))
                {
                    return false;
                }

                groups[count++] = (ushort)(v4 >> 16);
                groups[count++] = (ushort)v4;
                break;
            }

            var digits = i - start;
            if (digits is 0 or > 4 || count == 8)
            {
                return false;
            }

            ushort group = 0;
            foreach (var c in text[start..i])
            {
                group = (ushort)((group << 4) | HexValue(c));
            }

            groups[count++] = group;
            if (i == text.Length)
            {
                break;
            }

            if (text[i] != ':' || ++i == text.Length)
            {
                return false; // a stray character, or a single trailing ':'
            }

            if (text[i] == ':')
            {
                if (gap >= 0)
                {
                    return false;
                }

                gap = count;
                i++;
            }
        }

        if (gap < 0 ? count != 8 : count > 7)
        {
            return false;
        }

        if (gap >= 0)
        {
            // Move the groups after "::" to the end; the hole between is zeros.
            var tail = count - gap;
            groups.Slice(gap, tail).CopyTo(groups[(8 - tail)..]);
            groups.Slice(gap, 8 - count).Clear();
        }

        ulong high = 0, low = 0;
        for (var g = 0; g < 4; g++)
        {
            high = (high << 16) | groups[g];
            low = (low << 16) | groups[g + 4];
        }

        address = FromIPv6(high, low);
        return true;
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    /// <summary>Writes the address's 4 or 16 bytes in network order.</summary>
    public void WriteBytes(Span<byte> destination)
    {
        if (_isV6)
        {
            BinaryPrimitives.WriteUInt64BigEndian(destination, _high);
            BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _low);
        }
        else
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)_low);
        }
    }

    public IPAddress ToIPAddress()
    {
        Span<byte> bytes = stackalloc byte[16];
        WriteBytes(bytes);
        return new IPAddress(bytes[..ByteLength]);
    }

    /// <summary>
    /// Whether this address lies in <paramref name="network"/>/<paramref name="prefixLength"/> (a prefix below 0 is 0,
    /// above the family's width is the whole address). IPv4-mapped addresses match IPv4 networks, and an IPv4-mapped
    /// network with a prefix of 96 or more matches the IPv4 addresses it maps. IPv4 and IPv6 never match otherwise.
    /// </summary>
    public bool IsInNetwork(NetAddress network, int prefixLength)
    {
        if (network.IsIPv4Mapped && prefixLength >= 96)
        {
            network = network.Unmapped;
            prefixLength -= 96;
        }

        var self = network._isV6 ? this : Unmapped;
        if (self._isV6 != network._isV6)
        {
            return false;
        }

        if (!network._isV6)
        {
            var mask = V4Mask(prefixLength);
            return ((uint)self._low & mask) == ((uint)network._low & mask);
        }

        var (highMask, lowMask) = V6Mask(prefixLength);
        return (self._high & highMask) == (network._high & highMask) && (self._low & lowMask) == (network._low & lowMask);
    }

    /// <summary>The first address of this address's network of <paramref name="prefixLength"/> bits (host bits cleared).</summary>
    public NetAddress Masked(int prefixLength)
    {
        if (!_isV6)
        {
            return FromIPv4((uint)_low & V4Mask(prefixLength));
        }

        var (highMask, lowMask) = V6Mask(prefixLength);
        return FromIPv6(_high & highMask, _low & lowMask);
    }

    private static uint V4Mask(int prefixLength) => prefixLength switch
    {
        <= 0 => 0,
        >= 32 => uint.MaxValue,
        _ => uint.MaxValue << (32 - prefixLength),
    };

    private static (ulong High, ulong Low) V6Mask(int prefixLength) => prefixLength switch
    {
        <= 0 => (0, 0),
        < 64 => (ulong.MaxValue << (64 - prefixLength), 0),
        64 => (ulong.MaxValue, 0),
        < 128 => (ulong.MaxValue, ulong.MaxValue << (128 - prefixLength)),
        _ => (ulong.MaxValue, ulong.MaxValue),
    };

    public bool Equals(NetAddress other) => _high == other._high && _low == other._low && _isV6 == other._isV6;

    public override bool Equals(object? obj) => obj is NetAddress other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_high, _low, _isV6);

    public int CompareTo(NetAddress other)
    {
        var byFamily = _isV6.CompareTo(other._isV6);
        if (byFamily != 0)
        {
            return byFamily;
        }

        var byHigh = _high.CompareTo(other._high);
        return byHigh != 0 ? byHigh : _low.CompareTo(other._low);
    }

    public static bool operator ==(NetAddress left, NetAddress right) => left.Equals(right);

    public static bool operator !=(NetAddress left, NetAddress right) => !left.Equals(right);

    public static bool operator <(NetAddress left, NetAddress right) => left.CompareTo(right) < 0;

    public static bool operator >(NetAddress left, NetAddress right) => left.CompareTo(right) > 0;

    public static bool operator <=(NetAddress left, NetAddress right) => left.CompareTo(right) <= 0;

    public static bool operator >=(NetAddress left, NetAddress right) => left.CompareTo(right) >= 0;

    /// <summary>The address as people read it: <c>*</c> for a wildcard, otherwise the canonical text (RFC 5952 for IPv6).</summary>
    public override string ToString()
    {
        Span<char> text = stackalloc char[MaxTextLength];
        TryFormat(text, out var written);
        return new string(text[..written]);
    }

    /// <summary>The address's text; <paramref name="format"/> <c>"n"</c> writes a wildcard as <c>0.0.0.0</c> or <c>::</c> instead of <c>*</c>.</summary>
    public string ToString(string? format, IFormatProvider? formatProvider)
    {
        Span<char> text = stackalloc char[MaxTextLength];
        TryFormat(text, out var written, format);
        return new string(text[..written]);
    }

    /// <summary>
    /// Writes <c>*</c> for a wildcard (or, with format <c>"n"</c>, its number), an IPv4 address as a dotted quad, and
    /// an IPv6 address as RFC 5952 and <c>inet_ntop</c> do: lower-case hex, no leading zeros, the longest run of two
    /// or more zero groups (the first of equals) as <c>::</c>, and a dotted-quad tail for IPv4-mapped
    /// (<c>::ffff:127.0.0.1</c>) and IPv4-compatible (<c>::10.0.0.1</c>) addresses.
    /// </summary>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format = default, IFormatProvider? provider = null)
    {
        charsWritten = 0;
        if (IsWildcard && format is not "n")
        {
            return Put(destination, ref charsWritten, '*');
        }

        if (!_isV6)
        {
            return TryFormatIPv4(destination, ref charsWritten, (uint)_low);
        }

        Span<ushort> groups = stackalloc ushort[8];
        for (var g = 0; g < 4; g++)
        {
            groups[g] = (ushort)(_high >> (48 - (16 * g)));
            groups[g + 4] = (ushort)(_low >> (48 - (16 * g)));
        }

        var (runStart, runLength) = LongestZeroRun(groups);

        // inet_ntop's rule for a dotted tail: the zero run is groups 0-5 (compatible) or 0-4 before ffff (mapped).
        var dottedTail = runStart == 0 && (runLength == 6 || (runLength == 5 && groups[5] == 0xFFFF));
        var hexGroups = dottedTail ? 6 : 8;
        for (var g = 0; g < hexGroups; g++)
        {
            if (g == runStart)
            {
                if (!Put(destination, ref charsWritten, ':') || (g == 0 && !Put(destination, ref charsWritten, ':')))
                {
                    return false;
                }

                g += runLength - 1;
                continue;
            }

            if (!groups[g].TryFormat(destination[charsWritten..], out var hexWritten, "x"))
            {
                return false;
            }

            charsWritten += hexWritten;
            if (g < 7 && !Put(destination, ref charsWritten, ':'))
            {
                return false;
            }
        }

        return !dottedTail || TryFormatIPv4(destination, ref charsWritten, (uint)_low);
    }

    private static (int Start, int Length) LongestZeroRun(ReadOnlySpan<ushort> groups)
    {
        var (bestStart, bestLength) = (-1, 0);
        for (var g = 0; g < groups.Length; g++)
        {
            if (groups[g] != 0)
            {
                continue;
            }

            var length = 1;
            while (g + length < groups.Length && groups[g + length] == 0)
            {
                length++;
            }

            if (length > bestLength)
            {
                (bestStart, bestLength) = (g, length);
            }

            g += length;
        }

        return bestLength >= 2 ? (bestStart, bestLength) : (-1, 0);
    }

    private static bool TryFormatIPv4(Span<char> destination, ref int charsWritten, uint value)
    {
        for (var shift = 24; shift >= 0; shift -= 8)
        {
            if (!((byte)(value >> shift)).TryFormat(destination[charsWritten..], out var written))
            {
                return false;
            }

            charsWritten += written;
            if (shift > 0 && !Put(destination, ref charsWritten, '.'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool Put(Span<char> destination, ref int charsWritten, char c)
    {
        if (charsWritten >= destination.Length)
        {
            return false;
        }

        destination[charsWritten++] = c;
        return true;
    }

    /// <summary>Parses like <see cref="TryParse(ReadOnlySpan{char}, out NetAddress)"/>; throws <see cref="FormatException"/> on bad text.</summary>
    public static NetAddress Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var address) ? address : throw new FormatException($"'{text}' is not an IPv4 or IPv6 address.");
    }
}
