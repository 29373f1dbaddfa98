using System.Net;
using System.Net.Sockets;

namespace PortDashboard.Naming;

/// <summary>One reverse lookup (PTR, or /etc/hosts for the addresses it lists): the name of an address, or null when it has none.</summary>
public interface IReverseDns
{
    Task<string?> ResolveAsync(IPAddress address, CancellationToken cancellationToken);
}

/// <summary>The system resolver (getnameinfo: /etc/hosts, then DNS as /etc/nsswitch.conf says).</summary>
public sealed class SystemReverseDns : IReverseDns
{
    public async Task<string?> ResolveAsync(IPAddress address, CancellationToken cancellationToken)
    {
        try
        {
            var entry = await Dns.GetHostEntryAsync(address.ToString(), cancellationToken).ConfigureAwait(false);
            return string.IsNullOrEmpty(entry.HostName) || entry.HostName == address.ToString() ? null : entry.HostName;
        }
        catch (SocketException)
        {
            return null; // no name (NXDOMAIN, no server): the negative cache keeps it
        }
    }
}
