using System.Globalization;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Core.Filtering;

/// <summary>
/// An address (<c>10.0.0.5</c>, <c>::1</c>) or a CIDR network (<c>10.0.0.0/8</c>, <c>fe80::/10</c>). Held canonical:
/// host bits cleared (<c>10.1.2.3/8</c> is <c>10.0.0.0/8</c>), a full-length prefix is a single address, and an
/// IPv4-mapped pattern is its IPv4 pattern (<c>::ffff:10.0.0.0/104</c> is <c>10.0.0.0/8</c>). IPv4 patterns match
/// IPv4-mapped IPv6 addresses too.
/// </summary>
public readonly record struct AddressPattern
{
    /// <param name="network">The address or network.</param>
    /// <param name="prefixLength">0–32 for IPv4, 0–128 for IPv6.</param>
    public AddressPattern(NetAddress network, int prefixLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, MaxPrefix(network));
        if (network.IsIPv4Mapped && prefixLength >= 96)
        {
            network = network.Unmapped;
            prefixLength -= 96;
        }

        Network = network.Masked(prefixLength);
        PrefixLength = prefixLength;
    }

    /// <summary>The first address of the network (host bits cleared).</summary>
    public NetAddress Network { get; }

    public int PrefixLength { get; }

    /// <summary>Whether this is a network rather than one address (its prefix is shorter than the address).</summary>
    public bool HasPrefix => PrefixLength < MaxPrefix(Network);

    /// <summary>The pattern matching exactly <paramref name="address"/>.</summary>
    public static AddressPattern Single(NetAddress address) => new(address, MaxPrefix(address));

    public bool Matches(NetAddress address) => address.IsInNetwork(Network, PrefixLength);

    public static bool TryParse(ReadOnlySpan<char> text, out AddressPattern pattern) => TryParse(text, out pattern, out _);

    /// <summary>Parses <c>address</c> or <c>address/prefix</c>, or says what is wrong.</summary>
    internal static bool TryParse(ReadOnlySpan<char> text, out AddressPattern pattern, out string? error)
    {
        pattern = default;
        var slash = text.IndexOf('/');
        var addressText = slash < 0 ? text : text[..slash];
        if (addressText is "*" || !NetAddress.TryParse(addressText, out var network))
        {
            error = $"invalid address '{text}'; expected an IPv4 or IPv6 address or a CIDR network such as 10.0.0.0/8 or fe80::/10";
            return false;
        }

        if (slash < 0)
        {
            pattern = Single(network);
            error = null;
            return true;
        }

        var max = MaxPrefix(network);
        var prefixText = text[(slash + 1)..];
        if (prefixText.Length is 0 or > 3
            || !int.TryParse(prefixText, NumberStyles.None, CultureInfo.InvariantCulture, out var prefix)
            || prefix > max)
        {
            error = $"invalid prefix '/{prefixText}' in '{text}'; expected 0 to {max} for an {(network.IsIPv6 ? "IPv6" : "IPv4")} network";
            return false;
        }

        pattern = new AddressPattern(network, prefix);
        error = null;
        return true;
    }

    /// <summary><c>10.0.0.0/8</c>, <c>fe80::/10</c>, <c>127.0.0.1</c>, <c>::</c> (a wildcard is written as its number, not <c>*</c>).</summary>
    public override string ToString() => HasPrefix
        ? string.Create(CultureInfo.InvariantCulture, $"{Network:n}/{PrefixLength}")
        : Network.ToString("n", CultureInfo.InvariantCulture);

    private static int MaxPrefix(NetAddress address) => address.IsIPv6 ? 128 : 32;
}
