namespace PortDashboard.Core.Sockets;

/// <summary>An IP address and a port. Port 0 on a wildcard address means "no endpoint" (an unconnected socket's remote).</summary>
public readonly record struct Endpoint(NetAddress Address, int Port)
{
    /// <summary><c>*:*</c>: a listening or unconnected socket's remote side. It has no port range.</summary>
    public bool IsUnspecified => Port == 0 && Address.IsWildcard;

    /// <summary><c>127.0.0.1:80</c>, <c>[::1]:443</c>, <c>*:22</c>, <c>*:*</c>.</summary>
    public override string ToString()
    {
        var address = Address.ToString();
        var port = Port == 0 && Address.IsWildcard ? "*" : Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Address.IsIPv6 && !Address.IsWildcard ? $"[{address}]:{port}" : $"{address}:{port}";
    }
}
