using System.Collections.Frozen;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Core.Ports;

/// <summary>
/// Port + protocol → service name (22/tcp → ssh). IANA's registry, shipped in the repo, overlaid by the
/// machine's <c>/etc/services</c> when present (the machine's own names win).
/// </summary>
public sealed class ServiceNameRegistry
{
    private readonly FrozenDictionary<int, string> _names;

    private ServiceNameRegistry(Dictionary<int, string> names) => _names = names.ToFrozenDictionary();

    /// <summary>An empty registry: every lookup answers null.</summary>
    public static ServiceNameRegistry Empty { get; } = new([]);

    public int Count => _names.Count;

    public string? Lookup(int port, TransportProtocol protocol) =>
        _names.TryGetValue(Key(port, protocol), out var name) ? name : null;

    /// <summary>Loads the registry from <c>/etc/services</c>-format text files, later files overriding earlier ones.</summary>
    public static ServiceNameRegistry Load(params string[] servicesFiles)
    {
        var names = new Dictionary<int, string>();
        foreach (var path in servicesFiles)
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            AddServicesLines(lines, names);
        }

        return new ServiceNameRegistry(names);
    }

    /// <summary>Parses <c>name port/proto [aliases] [# comment]</c> lines; a malformed line is skipped.</summary>
    internal static void AddServicesLines(IEnumerable<string> lines, Dictionary<int, string> names)
    {
        Span<Range> parts = stackalloc Range[3];
        foreach (var raw in lines)
        {
            var line = raw.AsSpan();
            var hash = line.IndexOf('#');
            if (hash >= 0)
            {
                line = line[..hash];
            }

            var count = line.SplitAny(parts, " \t", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (count < 2)
            {
                continue;
            }

            var portProto = line[parts[1]];
            var slash = portProto.IndexOf('/');
            if (slash < 0 || !int.TryParse(portProto[..slash], out var port) || port is < 0 or > PortRanges.LastPort)
            {
                continue;
            }

            var protoText = portProto[(slash + 1)..];
            TransportProtocol protocol;
            if (protoText.Equals("tcp", StringComparison.OrdinalIgnoreCase))
            {
                protocol = TransportProtocol.Tcp;
            }
            else if (protoText.Equals("udp", StringComparison.OrdinalIgnoreCase))
            {
                protocol = TransportProtocol.Udp;
            }
            else
            {
                continue;
            }

            names[Key(port, protocol)] = line[parts[0]].ToString();
        }
    }

    private static int Key(int port, TransportProtocol protocol) => (port << 1) | (int)protocol;
}
