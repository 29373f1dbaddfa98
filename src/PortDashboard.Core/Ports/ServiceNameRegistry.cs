using System.Runtime.CompilerServices;
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

    // Never written after construction, so safe to read from any thread.
    private readonly Dictionary<int, string> _names;

    private ServiceNameRegistry(Dictionary<int, string> names, IReadOnlyList<string> sources, int malformedLines)
    {
        _names = names;
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

    /// <summary>The service name for a port, or null when none is known (a port outside 0–65535 never has one).</summary>
    public string? Lookup(int port, TransportProtocol protocol) =>
        (uint)port <= PortRanges.LastPort && _names.TryGetValue(Key(port, protocol), out var name) ? name : null;

    /// <summary>
    /// IANA's registry (embedded) overlaid by <paramref name="etcServicesPath"/> when that file exists and can be
    /// read; pass null (or an empty path) for IANA's names alone. A missing or unreadable file is not an error.
    /// </summary>
    public static ServiceNameRegistry LoadDefault(string? etcServicesPath = "/etc/services")
    {
        var names = new Dictionary<int, string>(12_000);
        var sources = new List<string>(2);
        var malformed = AddIana(names, sources);
        if (!string.IsNullOrWhiteSpace(etcServicesPath))
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
            var text = File.ReadAllBytes(path);
            var malformed = AddServicesText(text, names);
            sources.Add(path);
            return malformed;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>
    /// Parses <c>/etc/services</c> text (<c>name port/proto [aliases] [# comment]</c> lines, fields separated by
    /// spaces or tabs) into <paramref name="names"/>, overriding what is there. Blank and comment lines are skipped;
    /// so are protocols other than tcp and udp (ddp, sctp). A line whose port/proto field is missing, has no protocol,
    /// or has no port from 0 to 65535 is skipped and counted.
    /// </summary>
    /// <returns>The number of malformed lines.</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static int AddServicesText(ReadOnlySpan<byte> text, Dictionary<int, string> names)
    {
        var malformed = 0;
        while (!text.IsEmpty)
        {
            var line = NextLine(ref text);
            var hash = line.IndexOf((byte)'#');
            if (hash >= 0)
            {
                line = line[..hash];
            }

            var name = NextField(ref line);
            if (name.IsEmpty)
            {
                continue;
            }

            var portProto = NextField(ref line);
            var slash = portProto.IndexOf((byte)'/');
            var port = slash < 0 ? -1 : ParsePort(portProto[..slash]);
            var protocolText = slash < 0 ? default : portProto[(slash + 1)..];
            if (port < 0 || protocolText.IsEmpty)
            {
                malformed++;
            }
            else if (TryParseProtocol(protocolText, out var protocol))
            {
                names[Key(port, protocol)] = Encoding.UTF8.GetString(name);
            }
        }

        return malformed;
    }

    /// <summary>The next line of <paramref name="text"/>, without its <c>\n</c> or <c>\r\n</c>.</summary>
    private static ReadOnlySpan<byte> NextLine(ref ReadOnlySpan<byte> text)
    {
        var end = text.IndexOf((byte)'\n');
        var line = end < 0 ? text : text[..end];
        text = end < 0 ? default : text[(end + 1)..];
        return line.EndsWith((byte)'\r') ? line[..^1] : line;
    }

    /// <summary>The next field of <paramref name="line"/> separated by spaces or tabs; empty when there is none.</summary>
    private static ReadOnlySpan<byte> NextField(ref ReadOnlySpan<byte> line)
    {
        line = line.TrimStart(" \t"u8);
        var end = line.IndexOfAny((byte)' ', (byte)'\t');
        var field = end < 0 ? line : line[..end];
        line = end < 0 ? default : line[end..];
        return field;
    }

    /// <summary>A port from 0 to 65535 written in 1 to 5 decimal digits, or -1.</summary>
    private static int ParsePort(ReadOnlySpan<byte> text)
    {
        if (text.Length is 0 or > 5)
        {
            return -1;
        }

        var port = 0;
        foreach (var digit in text)
        {
            if (digit - (uint)'0' > 9)
            {
                return -1;
            }

            port = (port * 10) + (digit - '0');
        }

        return port <= PortRanges.LastPort ? port : -1;
    }

    private static bool TryParseProtocol(ReadOnlySpan<byte> text, out TransportProtocol protocol)
    {
        if (Ascii.EqualsIgnoreCase(text, "tcp"u8))
        {
            protocol = TransportProtocol.Tcp;
            return true;
        }

        protocol = TransportProtocol.Udp;
        return Ascii.EqualsIgnoreCase(text, "udp"u8);
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

    /// <summary>
    /// Parses the IANA table's UTF-8 text. The same name for tcp and udp of one port is one string. It runs once, at
    /// start-up, over some 11,000 lines: compiled optimized at once rather than first as slow tier-0 code.
    /// </summary>
    /// <returns>Malformed lines, and the header's source line (<c>IANA via ...</c>).</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static (int Malformed, string Source) AddIanaLines(ReadOnlySpan<byte> data, Dictionary<int, string> names)
    {
        var malformed = 0;
        var source = "IANA";
        var previous = "";
        while (!data.IsEmpty)
        {
            var line = NextLine(ref data);
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
            var secondTab = firstTab < 0 ? -1 : line[(firstTab + 1)..].IndexOf((byte)'\t') + firstTab + 1;
            var port = firstTab < 0 ? -1 : ParsePort(line[..firstTab]);
            if (port < 0 || secondTab <= firstTab || secondTab == line.Length - 1
                || !TryParseProtocol(line[(firstTab + 1)..secondTab], out var protocol))
            {
                malformed++;
                continue;
            }

            var nameBytes = line[(secondTab + 1)..];
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

    private static int Key(int port, TransportProtocol protocol) => (port << 1) | (int)protocol;
}
