using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace PortDashboard.Core.Sockets;

/// <summary>
/// An IPv4 or IPv6 address held inline (no heap allocation), in network byte order.
/// IPv4 occupies the low 32 bits of <see cref="_low"/>; IPv6 uses all 128 bits.
/// </summary>
public readonly struct NetAddress : IEquatable<NetAddress>
{
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

    public bool IsLoopback => _isV6
        ? (_high == 0 && _low == 1) || (IsIPv4Mapped && ((uint)_low >> 24) == 127)
        : ((uint)_low >> 24) == 127;

    /// <summary>The address IPv4 code would see: a mapped IPv6 address becomes IPv4; anything else is unchanged.</summary>
    public NetAddress Unmapped => IsIPv4Mapped ? FromIPv4((uint)_low) : this;

    /// <summary>An IPv4 address from its value in network order read as a big-endian number (127.0.0.1 = 0x7F000001).</summary>
    public static NetAddress FromIPv4(uint hostOrderValue) => new(0, hostOrderValue, false);

    /// <summary>An IPv6 address from its two big-endian halves.</summary>
    public static NetAddress FromIPv6(ulong high, ulong low) => new(high, low, true);

    public static NetAddress FromBytes(ReadOnlySpan<byte> bytes) => bytes.Length switch
    {
        4 => FromIPv4(BinaryPrimitives.ReadUInt32BigEndian(bytes)),
        16 => FromIPv6(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..])),
        _ => throw new ArgumentException("An address has 4 or 16 bytes.", nameof(bytes)),
    };

    public static NetAddress FromIPAddress(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        return FromBytes(bytes[..written]);
    }

    public static bool TryParse(ReadOnlySpan<char> text, out NetAddress address)
    {
        if (text is "*")
        {
            address = AnyV4;
            return true;
        }

        if (text.Length > 1 && text[0] == '[' && text[^1] == ']')
        {
            text = text[1..^1];
        }

        if (IPAddress.TryParse(text, out var ip) && (ip.AddressFamily != AddressFamily.InterNetworkV6 || ip.ScopeId == 0))
        {
            address = FromIPAddress(ip);
            return true;
        }

        address = default;
        return false;
    }

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

    public int ByteLength => _isV6 ? 16 : 4;

    public IPAddress ToIPAddress()
    {
        Span<byte> bytes = stackalloc byte[16];
        WriteBytes(bytes);
        return new IPAddress(bytes[..ByteLength]);
    }

    /// <summary>Whether this address lies in <paramref name="network"/>/<paramref name="prefixLength"/>. IPv4-mapped addresses match IPv4 networks.</summary>
    public bool IsInNetwork(NetAddress network, int prefixLength)
    {
        var self = network._isV6 ? this : Unmapped;
        if (self._isV6 != network._isV6)
        {
            return false;
        }

        if (!network._isV6)
        {
            if (prefixLength <= 0)
            {
                return true;
            }

            var mask = prefixLength >= 32 ? uint.MaxValue : uint.MaxValue << (32 - prefixLength);
            return ((uint)self._low & mask) == ((uint)network._low & mask);
        }

        if (prefixLength <= 64)
        {
            var mask = prefixLength <= 0 ? 0UL : ulong.MaxValue << (64 - prefixLength);
            return (self._high & mask) == (network._high & mask);
        }

        var lowMask = prefixLength >= 128 ? ulong.MaxValue : ulong.MaxValue << (128 - prefixLength);
        return self._high == network._high && (self._low & lowMask) == (network._low & lowMask);
    }

    public AddressFamily AddressFamily => _isV6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;

    public bool Equals(NetAddress other) => _high == other._high && _low == other._low && _isV6 == other._isV6;

    public override bool Equals(object? obj) => obj is NetAddress other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_high, _low, _isV6);

    public static bool operator ==(NetAddress left, NetAddress right) => left.Equals(right);

    public static bool operator !=(NetAddress left, NetAddress right) => !left.Equals(right);

    /// <summary>The address as people read it: <c>*</c> for a wildcard, otherwise the canonical text (RFC 5952 for IPv6).</summary>
    public override string ToString() => IsWildcard ? "*" : ToIPAddress().ToString();
}
