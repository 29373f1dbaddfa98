using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Core.Ports;

/// <summary>
/// Port + protocol → service name (22/tcp → ssh). IANA's registry, shipped in the repo as an embedded resource
/// (<c>Ports/Data/service-names.tsv</c>, see its PROVENANCE.md), overlaid by the machine's <c>/etc/services</c>
/// when present (the machine's own names win).
/// </summary>
public sealed class ServiceNameRegistry
{
    /// <summary>The manifest name of the embedded IANA table.</summary>
    internal const string IanaResourceName = "PortDashboard.Core.Ports.Data.service-names.tsv";

    private readonly FrozenDictionary<int, string> _names;

    private ServiceNameRegistry(Dictionary<int, string> names, IReadOnlyList<string> sources, int malformedLines)
    {
        _names = names.ToFrozenDictionary();
        Sources = sources;
        MalformedLineCount = malformedLines;
    }

    /// <summary>An empty registry: every lookup answers null.</summary>
    public static ServiceNameRegistry Empty { get; } = new([], [], 0);

    /// <summary>How many port/protocol pairs have a name.</summary>
    public int Count => _names.Count;

    /// <summary>What was loaded, in order (later sources win): the IANA table's description and the files read.</summary>
    public IReadOnlyList<string> Sources { get; }

    /// <summary>Lines that were skipped because they could not be read as <c>name port/proto</c>.</summary>
    public int MalformedLineCount { get; }

    /// <summary>The service name for a port, or null when none is known (port 0 and ports outside 0–65535 have none).</summary>
    public string? Lookup(int port, TransportProtocol protocol) =>
        _names.TryGetValue(Key(port, protocol), out var name) ? name : null;

    /// <summary>
    /// IANA's registry (embedded) overlaid by <paramref name="etcServicesPath"/> when that file exists and can be
    /// read; pass null for IANA's names alone. A missing or unreadable file is not an error.
    /// </summary>
    public static ServiceNameRegistry LoadDefault(string? etcServicesPath = "/etc/services")
    {
        var names = new Dictionary<int, string>(12_000);
        var sources = new List<string>(2);
        var malformed = AddIana(names, sources);
        if (etcServicesPath is not null)
        {
            malformed += AddServicesFile(etcServicesPath, names, sources);
        }

        return new ServiceNameRegistry(names, sources, malformed);
    }

    /// <summary>Loads the registry from <c>/etc/services</c>-format text files alone, later files overriding earlier ones. Missing files are skipped.</summary>
    public static ServiceNameRegistry Load(params string[] servicesFiles)
    {
        ArgumentNullException.ThrowIfNull(servicesFiles);
        var names = new Dictionary<int, string>();
        var sources = new List<string>(servicesFiles.Length);
        var malformed = 0;
        foreach (var path in servicesFiles)
        {
            malformed += AddServicesFile(path, names, sources);
        }

        return new ServiceNameRegistry(names, sources, malformed);
    }

    private static int AddServicesFile(string path, Dictionary<int, string> names, List<string> sources)
    {
        try
        {
            // Read whole before adding: a file that fails half-way contributes nothing rather than a part.
            var lines = File.ReadAllLines(path);
            var malformed = AddServicesLines(lines, names);
            sources.Add(path);
            return malformed;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>
    /// Parses <c>name port/proto [aliases] [# comment]</c> lines into <paramref name="names"/>, overriding what is
    /// there. Blank and comment lines are skipped; so are protocols other than tcp and udp (ddp, sctp). A line whose
    /// port/proto field is missing or not a port from 0 to 65535 is skipped and counted.
    /// </summary>
    /// <returns>The number of malformed lines.</returns>
    internal static int AddServicesLines(IEnumerable<string> lines, Dictionary<int, string> names)
    {
        var malformed = 0;
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
            if (count == 0)
            {
                continue;
            }

            var portProto = count < 2 ? default : line[parts[1]];
            var slash = portProto.IndexOf('/');
            if (slash < 0
                || !int.TryParse(portProto[..slash], NumberStyles.None, CultureInfo.InvariantCulture, out var port)
                || port > PortRanges.LastPort)
            {
                malformed++;
                continue;
            }

            if (TryParseProtocol(portProto[(slash + 1)..], out var protocol))
            {
                names[Key(port, protocol)] = line[parts[0]].ToString();
            }
        }

        return malformed;
    }

    /// <summary>Adds the embedded IANA table: a header of <c>#</c> lines, then <c>port\tprotocol\tname</c> lines.</summary>
    private static int AddIana(Dictionary<int, string> names, List<string> sources)
    {
        byte[] data;
        using (var stream = typeof(ServiceNameRegistry).Assembly.GetManifestResourceStream(IanaResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {IanaResourceName} is missing from the build."))
        {
            data = new byte[stream.Length];
            stream.ReadExactly(data);
        }

        var (malformed, source) = AddIanaLines(data, names);
        sources.Add(source);
        return malformed;
    }

    /// <summary>Parses the IANA table's UTF-8 text. The same name for tcp and udp of one port is one string.</summary>
    /// <returns>Malformed lines, and the header's source line (<c>IANA via ...</c>).</returns>
    internal static (int Malformed, string Source) AddIanaLines(ReadOnlySpan<byte> data, Dictionary<int, string> names)
    {
        var malformed = 0;
        var source = "IANA";
        var previous = "";
        foreach (var range in data.Split((byte)'\n'))
        {
            var line = data[range];
            if (line.IsEmpty)
            {
                continue;
            }

            if (line[0] == (byte)'#')
            {
                var sourcePrefix = "# Source: "u8;
                if (line.StartsWith(sourcePrefix))
                {
                    source = "IANA via " + Encoding.UTF8.GetString(line[sourcePrefix.Length..]).TrimEnd();
                }

                continue;
            }

            var firstTab = line.IndexOf((byte)'\t');
            var secondTab = firstTab < 0 ? -1 : line[(firstTab + 1)..].IndexOf((byte)'\t');
            if (secondTab < 0
                || !int.TryParse(line[..firstTab], NumberStyles.None, CultureInfo.InvariantCulture, out var port)
                || port > PortRanges.LastPort
                || !TryParseProtocol(line.Slice(firstTab + 1, secondTab), out var protocol))
            {
                malformed++;
                continue;
            }

            var nameBytes = line[(firstTab + secondTab + 2)..];
            if (nameBytes.IsEmpty)
            {
                malformed++;
                continue;
            }

            var name = Utf8Equals(nameBytes, previous) ? previous : Encoding.UTF8.GetString(nameBytes);
            names[Key(port, protocol)] = name;
            previous = name;
        }

        return (malformed, source);
    }

    private static bool Utf8Equals(ReadOnlySpan<byte> utf8, string ascii)
    {
        if (utf8.Length != ascii.Length)
        {
            return false;
        }

        for (var i = 0; i < utf8.Length; i++)
        {
            if (utf8[i] >= 0x80 || utf8[i] != ascii[i])
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryParseProtocol(ReadOnlySpan<char> text, out TransportProtocol protocol)
    {
        if (text.Equals("tcp", StringComparison.OrdinalIgnoreCase))
        {
            protocol = TransportProtocol.Tcp;
            return true;
        }

        protocol = TransportProtocol.Udp;
        return text.Equals("udp", StringComparison.OrdinalIgnoreCase);
    }

    private static bool TryParseProtocol(ReadOnlySpan<byte> text, out TransportProtocol protocol)
    {
        if (text.SequenceEqual("tcp"u8))
        {
            protocol = TransportProtocol.Tcp;
            return true;
        }

        protocol = TransportProtocol.Udp;
        return text.SequenceEqual("udp"u8);
    }

    private static int Key(int port, TransportProtocol protocol) => (port << 1) | (int)protocol;
}
