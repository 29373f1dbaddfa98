using System.Globalization;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Core.Filtering;

/// <summary>An address (<c>10.0.0.5</c>, <c>::1</c>) or a CIDR network (<c>10.0.0.0/8</c>, <c>fe80::/10</c>). IPv4 patterns match IPv4-mapped IPv6 addresses too.</summary>
public readonly record struct AddressPattern(NetAddress Network, int PrefixLength, bool HasPrefix)
{
    public bool Matches(NetAddress address) => address.IsInNetwork(Network, PrefixLength);

    public static bool TryParse(ReadOnlySpan<char> text, out AddressPattern pattern)
    {
        pattern = default;
        var slash = text.IndexOf('/');
        var addressText = slash < 0 ? text : text[..slash];
        if (!NetAddress.TryParse(addressText, out var network) || addressText is "*")
        {
            return false;
        }

        var maxPrefix = network.IsIPv6 ? 128 : 32;
        if (slash < 0)
        {
            pattern = new AddressPattern(network, maxPrefix, false);
            return true;
        }

        if (!int.TryParse(text[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var prefix) || prefix > maxPrefix)
        {
            return false;
        }

        pattern = new AddressPattern(network, prefix, true);
        return true;
    }

    public override string ToString()
    {
        var address = Network.IsWildcard ? (Network.IsIPv6 ? "::" : "0.0.0.0") : Network.ToString();
        return HasPrefix ? string.Create(CultureInfo.InvariantCulture, $"{address}/{PrefixLength}") : address;
    }
}
