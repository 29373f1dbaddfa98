using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Core.Filtering;

/// <summary>Which endpoint the endpoint criteria (range, port, address) look at.</summary>
public enum EndpointSide : byte
{
    /// <summary>Either endpoint may satisfy each criterion.</summary>
    Both,
    Local,
    Remote,
}

/// <summary>
/// A user's view of the socket table. It round-trips through a URL query string:
/// <c>range=registered,ephemeral,os-ephemeral&amp;proto=tcp&amp;state=established&amp;process=42,nginx&amp;port=80,8000-8999&amp;address=10.0.0.0/8&amp;q=text&amp;side=local</c>.
/// <para>
/// Matching: criteria of different kinds must all hold; several values of one kind are alternatives. The endpoint
/// criteria (range, port, address) look at the endpoints <see cref="Side"/> names, each criterion on its own
/// (with both sides, <c>port=443&amp;address=10.0.0.0/8</c> holds for 10.0.0.2:55000 → 1.1.1.1:443); an
/// unspecified endpoint (<c>*:*</c>, port 0 on a wildcard address) has no port, range or address and satisfies none
/// of them. <c>range</c> takes IANA's classes (<c>wellknown</c>, <c>registered</c>, <c>ephemeral</c>) and this machine's
/// (<c>os-ephemeral</c>: inside <c>net.ipv4.ip_local_port_range</c>; <c>privileged</c>: below
/// <c>net.ipv4.ip_unprivileged_port_start</c>), all alternatives of one criterion: <c>range=ephemeral,os-ephemeral</c>
/// holds for 40000 on a default Linux. The OS classes are judged by the snapshot's <see cref="OsPortPolicy"/>. A process value matches an owner by name (whole name, case-insensitive) and, when it is a number, by pid too.
/// <c>netns</c> names a socket's network namespace (its name, <c>host</c> for the reader's own, or its inode) and
/// <c>container</c> its owner's container (whole, or its id after the runtime's prefix), both case-insensitive.
/// The free text is split at white space; every word must occur, case-insensitively, in something shown in the row:
/// an endpoint, the state, the protocol, an owner's name, user or pid, or a service name.
/// </para>
/// <para>
/// Values are held canonical (sorted, without duplicates, lower case where case does not matter), whether they come
/// from <see cref="Parse(string?, IReadOnlyCollection{string}?)"/>, an initializer or a <c>with</c> expression, so
/// equal filters format to the same query and <c>Parse(f.ToQueryString()) == f</c>.
/// </para>
/// </summary>
public sealed record Filter
{
    /// <summary>The longest query <see cref="Parse(string?, IReadOnlyCollection{string}?)"/> accepts, in characters.</summary>
    public const int MaxQueryLength = 4096;

    /// <summary>The most values (all keys together) a parsed filter may hold.</summary>
    public const int MaxValues = 256;

    /// <summary>The query keys a filter reads, in the order it writes them.</summary>
    public static IReadOnlyList<string> QueryKeys { get; } = ["range", "proto", "state", "process", "port", "address", "q", "side", "netns", "container", "host"];

    public static Filter Empty { get; } = new();

    private readonly ImmutableArray<int> _pids = [];
    private readonly ImmutableArray<string> _words = [];

    public ImmutableArray<PortRange> Ranges { get; init => field = NormalizeEnums(value); } = [];

    /// <summary>The OS classes named by <c>range</c> (<c>os-ephemeral</c>, <c>privileged</c>), alternatives to <see cref="Ranges"/>.</summary>
    public ImmutableArray<OsPortClass> OsClasses { get; init => field = NormalizeEnums(value); } = [];

    public ImmutableArray<TransportProtocol> Protocols { get; init => field = NormalizeEnums(value); } = [];

    /// <summary>States a filter can name: those in <see cref="SocketStates.All"/> (not <see cref="SocketState.Unknown"/>).</summary>
    public ImmutableArray<SocketState> States
    {
        get;
        init => field = value.IsDefaultOrEmpty || value.All(SocketStates.All.Contains)
            ? NormalizeEnums(value)
            : throw new ArgumentOutOfRangeException(nameof(value), "A filter names only the states in SocketStates.All.");
    } = [];

    /// <summary>Process names (case-insensitive, whole name) or pids; held in lower case, numbers first.</summary>
    public ImmutableArray<string> Processes
    {
        get;
        init
        {
            field = NormalizeProcesses(value);
            _pids = [.. field.Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : -1).Where(pid => pid >= 0)];
        }
    } = [];

    /// <summary>Ports and spans, ordered by first port, then last.</summary>
    public ImmutableArray<PortSpan> Ports
    {
        get;
        init => field = value.IsDefaultOrEmpty ? [] : [.. value.Distinct().OrderBy(p => p.First).ThenBy(p => p.Last)];
    } = [];

    /// <summary>Addresses and networks, IPv4 before IPv6, then by network, the wider first.</summary>
    public ImmutableArray<AddressPattern> Addresses
    {
        get;
        init => field = value.IsDefaultOrEmpty ? [] : [.. value.Distinct().OrderBy(a => a.Network).ThenBy(a => a.PrefixLength)];
    } = [];

    /// <summary>Free text, trimmed; null when there is none.</summary>
    public string? Text
    {
        get;
        init
        {
            field = string.IsNullOrWhiteSpace(value) ? null : value.Trim();
            _words = field is null ? [] : [.. field.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)];
        }
    }

    public EndpointSide Side { get; init => field = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(value)); }

    /// <summary>
    /// Network namespaces (<c>netns</c>): a namespace's name (<c>host</c>, an <c>ip netns</c> name, <c>net:[4026532281]</c>)
    /// or its inode number; case-insensitive, held in lower case, sorted.
    /// </summary>
    public ImmutableArray<string> Namespaces
    {
        get;
        init => field = NormalizeNames(value);
    } = [];

    /// <summary>
    /// Containers (<c>container</c>): a container's whole name (<c>docker:3f2a9c1b7d4e</c>, <c>nginx.service</c>) or its id
    /// after the runtime's prefix (<c>3f2a9c1b7d4e</c>); case-insensitive, held in lower case, sorted.
    /// </summary>
    public ImmutableArray<string> Containers
    {
        get;
        init => field = NormalizeNames(value);
    } = [];

    /// <summary>Host names (fleet: which hosts' sockets are in view; case-insensitive), held in lower case, sorted.</summary>
    public ImmutableArray<string> Hosts
    {
        get;
        init => field = value.IsDefaultOrEmpty ? [] : [.. value.Select(h => h.ToLowerInvariant()).Distinct().Order(StringComparer.Ordinal)];
    } = [];

    /// <summary>The <c>host</c> value that names every host of the fleet (<c>host=*</c>: the pages' "All hosts").</summary>
    public const string AllHosts = "*";

    /// <summary><c>host=*</c>: every host's sockets are in view, whichever hosts the fleet holds.</summary>
    public bool SelectsAllHosts => Hosts.Contains(AllHosts);

    /// <summary>Whether a socket of host <paramref name="hostName"/> can be in view (<see cref="Matches"/> does not know hosts).</summary>
    public bool MatchesHost(string hostName) => Hosts.IsEmpty || SelectsAllHosts || Hosts.Contains(hostName.ToLowerInvariant());

    public bool IsEmpty => Ranges.IsEmpty && OsClasses.IsEmpty && Protocols.IsEmpty && States.IsEmpty && Processes.IsEmpty
        && Ports.IsEmpty && Addresses.IsEmpty && Text is null && Side == EndpointSide.Both && Hosts.IsEmpty
        && Namespaces.IsEmpty && Containers.IsEmpty;

    /// <summary>This filter with <paramref name="range"/> added or removed.</summary>
    public Filter Toggle(PortRange range) => this with { Ranges = Ranges.Contains(range) ? Ranges.Remove(range) : Ranges.Add(range) };

    public Filter WithRanges(IEnumerable<PortRange> ranges) => this with { Ranges = [.. ranges] };

    /// <summary>This filter with <paramref name="value"/> added or removed.</summary>
    public Filter Toggle(OsPortClass value) => this with { OsClasses = OsClasses.Contains(value) ? OsClasses.Remove(value) : OsClasses.Add(value) };

    public Filter WithOsClasses(IEnumerable<OsPortClass> values) => this with { OsClasses = [.. values] };

    public Filter WithProtocols(IEnumerable<TransportProtocol> protocols) => this with { Protocols = [.. protocols] };

    public Filter WithStates(IEnumerable<SocketState> states) => this with { States = [.. states] };

    public Filter WithProcesses(IEnumerable<string> processes) => this with { Processes = [.. processes] };

    public Filter WithPorts(IEnumerable<PortSpan> ports) => this with { Ports = [.. ports] };

    public Filter WithAddresses(IEnumerable<AddressPattern> addresses) => this with { Addresses = [.. addresses] };

    public Filter WithText(string? text) => this with { Text = text };

    public Filter WithSide(EndpointSide side) => this with { Side = side };

    public Filter WithNamespaces(IEnumerable<string> namespaces) => this with { Namespaces = [.. namespaces] };

    public Filter WithContainers(IEnumerable<string> containers) => this with { Containers = [.. containers] };

    /// <summary>
    /// Whether <paramref name="socket"/> is in this view. <paramref name="services"/> lets the free text find service
    /// names; <paramref name="policy"/> (the snapshot's, <see cref="OsPortPolicy.LinuxDefault"/> when null) judges
    /// <see cref="OsClasses"/>; <paramref name="remoteNames"/> the names of remote addresses (the pages' reverse DNS;
    /// null when none).
    /// </summary>
    public bool Matches(Socket socket, ServiceNameRegistry? services = null, OsPortPolicy? policy = null, Func<NetAddress, string?>? remoteNames = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        policy ??= OsPortPolicy.LinuxDefault;
        return (Protocols.IsEmpty || Protocols.Contains(socket.Protocol))
            && (States.IsEmpty || States.Contains(socket.State))
            && (Processes.IsEmpty || MatchesProcess(socket))
            && (Namespaces.IsEmpty || MatchesNamespace(socket.Namespace))
            && (Containers.IsEmpty || MatchesContainer(socket.Container))
            && ((Ranges.IsEmpty && OsClasses.IsEmpty) || OnSide(socket, policy, static (filter, policy, endpoint) => filter.InRange(endpoint.Port, policy)))
            && (Ports.IsEmpty || OnSide(socket, policy, static (filter, _, endpoint) => ContainsPort(filter.Ports, endpoint.Port)))
            && (Addresses.IsEmpty || OnSide(socket, policy, static (filter, _, endpoint) => MatchesAddress(filter.Addresses, endpoint.Address)))
            && (_words.IsEmpty || MatchesText(socket, services, remoteNames));
    }

    private bool InRange(int port, OsPortPolicy policy)
    {
        if (Ranges.Contains(PortRanges.Classify(port)))
        {
            return true;
        }

        foreach (var value in OsClasses)
        {
            if (policy.Holds(value, port))
            {
                return true;
            }
        }

        return false;
    }

    private bool OnSide(Socket socket, OsPortPolicy policy, Func<Filter, OsPortPolicy, Endpoint, bool> test)
    {
        bool Test(Endpoint endpoint) => !endpoint.IsUnspecified && test(this, policy, endpoint);
        return Side switch
        {
            EndpointSide.Local => Test(socket.Local),
            EndpointSide.Remote => Test(socket.Remote),
            _ => Test(socket.Local) || Test(socket.Remote),
        };
    }

    private static bool ContainsPort(ImmutableArray<PortSpan> ports, int port)
    {
        foreach (var span in ports)
        {
            if (span.Contains(port))
            {
                return true;
            }
        }

        return false;
    }

    private static bool MatchesAddress(ImmutableArray<AddressPattern> patterns, NetAddress address)
    {
        foreach (var pattern in patterns)
        {
            if (pattern.Matches(address))
            {
                return true;
            }
        }

        return false;
    }

    private bool MatchesProcess(Socket socket)
    {
        foreach (var owner in socket.Owners)
        {
            if (_pids.Contains(owner.Pid))
            {
                return true;
            }

            foreach (var wanted in Processes)
            {
                if (owner.Name.Equals(wanted, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private bool MatchesNamespace(NetNamespace netNamespace)
    {
        Span<char> inode = stackalloc char[20];
        var inodeText = netNamespace.Inode > 0 && netNamespace.Inode.TryFormat(inode, out var length, default, CultureInfo.InvariantCulture)
            ? inode[..length]
            : [];
        foreach (var wanted in Namespaces)
        {
            if (netNamespace.Name.Equals(wanted, StringComparison.OrdinalIgnoreCase) || (!inodeText.IsEmpty && inodeText.SequenceEqual(wanted)))
            {
                return true;
            }
        }

        return false;
    }

    private bool MatchesContainer(string? container)
    {
        if (container is null)
        {
            return false;
        }

        var colon = container.IndexOf(':', StringComparison.Ordinal);
        var id = colon < 0 ? default : container.AsSpan(colon + 1);
        foreach (var wanted in Containers)
        {
            if (container.Equals(wanted, StringComparison.OrdinalIgnoreCase) || (!id.IsEmpty && id.Equals(wanted, StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }

        return false;
    }

    private bool MatchesText(Socket socket, ServiceNameRegistry? services, Func<NetAddress, string?>? remoteNames)
    {
        Span<char> local = stackalloc char[Endpoint.MaxTextLength];
        Span<char> remote = stackalloc char[Endpoint.MaxTextLength];
        Span<char> pid = stackalloc char[11];
        socket.Local.TryFormat(local, out var localLength);
        socket.Remote.TryFormat(remote, out var remoteLength);
        local = local[..localLength];
        remote = remote[..remoteLength];
        var localService = services?.Lookup(socket.Local.Port, socket.Protocol);
        var remoteService = socket.Remote.IsUnspecified ? null : services?.Lookup(socket.Remote.Port, socket.Protocol);
        var remoteName = socket.Remote.IsUnspecified ? null : remoteNames?.Invoke(socket.Remote.Address);
        var container = socket.Container;
        var netns = socket.Namespace.IsHost ? null : socket.Namespace.Name;

        foreach (var word in _words)
        {
            var found = Has(local, word) || Has(remote, word)
                || Has(socket.State.ToDisplayName(), word) || Has(socket.State.ToQueryValue(), word)
                || Has(socket.Protocol.ToDisplayName(), word)
                || Has(localService, word) || Has(remoteService, word) || Has(remoteName, word)
                || Has(container, word) || Has(netns, word);
            for (var i = 0; !found && i < socket.Owners.Length; i++)
            {
                var owner = socket.Owners[i];
                owner.Pid.TryFormat(pid, out var pidLength, default, CultureInfo.InvariantCulture);
                found = Has(owner.Name, word) || Has(owner.UserName, word) || Has(pid[..pidLength], word);
            }

            if (!found)
            {
                return false;
            }
        }

        return true;
    }

    private static bool Has(ReadOnlySpan<char> haystack, string needle) => haystack.Contains(needle, StringComparison.OrdinalIgnoreCase);

    /// <summary>The canonical query string, without a leading '?'; empty for the empty filter.</summary>
    public string ToQueryString()
    {
        var builder = new StringBuilder();
        void Append<T>(string key, ImmutableArray<T> values, Func<T, string> format)
        {
            if (values.IsEmpty)
            {
                return;
            }

            builder.Append(builder.Length == 0 ? "" : "&").Append(key).Append('=');
            for (var i = 0; i < values.Length; i++)
            {
                AppendEscaped(builder.Append(i == 0 ? "" : ","), format(values[i]));
            }
        }

        Append("range", [.. Ranges.Select(r => r.ToQueryValue()), .. OsClasses.Select(c => c.ToQueryValue())], r => r);
        Append("proto", Protocols, p => p.ToQueryValue());
        Append("state", States, s => s.ToQueryValue());
        Append("process", Processes, p => p);
        Append("port", Ports, p => p.ToString());
        Append("address", Addresses, a => a.ToString());
        Append("q", Text is null ? [] : ImmutableArray.Create(Text), t => t);
        Append("side", Side == EndpointSide.Both ? [] : ImmutableArray.Create(Side), s => s == EndpointSide.Local ? "local" : "remote");
        Append("netns", Namespaces, n => n);
        Append("container", Containers, c => c);
        Append("host", Hosts, h => h);
        return builder.ToString();
    }

    /// <summary>
    /// Percent-encodes UTF-8 as RFC 3986 asks, keeping what is safe and readable in a query value: letters, digits,
    /// <c>-._~</c> and <c>:/@</c> (so <c>fe80::/10</c> stays as it is). A space is <c>%20</c>; a comma, <c>%2C</c>.
    /// </summary>
    private static void AppendEscaped(StringBuilder builder, string value)
    {
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' or ':' or '/' or '@')
            {
                builder.Append(c);
                continue;
            }

            var length = char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]) ? 2 : 1;
            var written = Encoding.UTF8.GetBytes(value.AsSpan(i, length), utf8);
            i += length - 1;
            foreach (var b in utf8[..written])
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }
    }

    public override string ToString() => ToQueryString();

    public bool Equals(Filter? other) => other is not null && ToQueryString() == other.ToQueryString();

    public override int GetHashCode() => ToQueryString().GetHashCode(StringComparison.Ordinal);

    /// <summary>
    /// Parses a query string (with or without '?'). Several values of a key are a comma list, and a key given again
    /// adds to it; <c>q</c> and <c>side</c> hold one value. Throws <see cref="FilterException"/> naming the bad
    /// parameter and saying what is accepted.
    /// </summary>
    /// <param name="query">The query string, still URL-encoded.</param>
    /// <param name="otherKeys">Keys that belong to the caller (e.g. <c>from</c>, <c>to</c>) and are ignored here.</param>
    public static Filter Parse(string? query, IReadOnlyCollection<string>? otherKeys = null)
    {
        var text = (query ?? "").AsSpan();
        if (text.StartsWith("?"))
        {
            text = text[1..];
        }

        CheckLength(text.Length);
        var pairs = new List<KeyValuePair<string, string>>();
        foreach (var range in text.Split('&'))
        {
            var pair = text[range];
            if (pair.IsEmpty)
            {
                continue;
            }

            var equals = pair.IndexOf('=');
            var key = Decode(equals < 0 ? pair : pair[..equals], "filter");
            var value = equals < 0 ? "" : pair[(equals + 1)..].ToString();
            pairs.Add(new(key, value));
        }

        return Parse(pairs, otherKeys);
    }

    /// <summary>Parses key/value pairs whose keys are decoded and whose values are still URL-encoded comma lists.</summary>
    public static Filter Parse(IEnumerable<KeyValuePair<string, string>> pairs, IReadOnlyCollection<string>? otherKeys = null)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var ranges = new List<PortRange>();
        var osClasses = new List<OsPortClass>();
        var protocols = new List<TransportProtocol>();
        var states = new List<SocketState>();
        var processes = new List<string>();
        var ports = new List<PortSpan>();
        var addresses = new List<AddressPattern>();
        var hosts = new List<string>();
        var namespaces = new List<string>();
        var containers = new List<string>();
        string? text = null;
        string? sideText = null;
        var side = EndpointSide.Both;
        var length = 0;
        var values = 0;

        foreach (var (rawKey, rawValue) in pairs)
        {
            length += (length == 0 ? 1 : 2) + rawKey.Length + (rawValue?.Length ?? 0); // '=' and the '&' before
            CheckLength(length);
            if (otherKeys is not null && otherKeys.Contains(rawKey))
            {
                continue;
            }

            var key = rawKey.ToLowerInvariant();
            switch (key)
            {
                case "range":
                    AddValues(ranges, rawValue, key, ref values, value => ParseRange(value, osClasses));
                    ranges.RemoveAll(r => r == NotARange);
                    break;
                case "proto":
                    AddValues(protocols, rawValue, key, ref values, ParseProtocol);
                    break;
                case "state":
                    AddValues(states, rawValue, key, ref values, ParseState);
                    break;
                case "process":
                    AddValues(processes, rawValue, key, ref values, static value => value);
                    break;
                case "port":
                    AddValues(ports, rawValue, key, ref values, static value =>
                        PortSpan.TryParse(value, out var span, out var error) ? span : throw new FilterException("port", error!));
                    break;
                case "address":
                    AddValues(addresses, rawValue, key, ref values, static value =>
                        AddressPattern.TryParse(value, out var pattern, out var error) ? pattern : throw new FilterException("address", error!));
                    break;
                case "q":
                    var decoded = Decode(rawValue, key).Trim();
                    if (decoded.Length > 0)
                    {
                        CheckOnce(key, text, decoded, StringComparison.Ordinal, "give the free text once");
                        text = decoded;
                        CountValue(key, ref values);
                    }

                    break;
                case "side":
                    var sideValue = Decode(rawValue, key).Trim();
                    if (sideValue.Length > 0)
                    {
                        side = ParseSide(sideValue);
                        CheckOnce(key, sideText, sideValue, StringComparison.OrdinalIgnoreCase, "give it once");
                        sideText = sideValue;
                        CountValue(key, ref values);
                    }

                    break;
                case "host":
                    AddValues(hosts, rawValue, key, ref values, ParseHost);
                    break;
                case "netns":
                    AddValues(namespaces, rawValue, key, ref values, value => ParseName(key, value));
                    break;
                case "container":
                    AddValues(containers, rawValue, key, ref values, value => ParseName(key, value));
                    break;
                default:
                    throw new FilterException(rawKey, $"unknown filter parameter '{rawKey}'; expected {JoinOr(QueryKeys)}");
            }
        }

        return new Filter
        {
            Ranges = [.. ranges],
            OsClasses = [.. osClasses],
            Protocols = [.. protocols],
            States = [.. states],
            Processes = [.. processes],
            Ports = [.. ports],
            Addresses = [.. addresses],
            Text = text,
            Side = side,
            Hosts = [.. hosts],
            Namespaces = [.. namespaces],
            Containers = [.. containers],
        };
    }

    /// <summary>The longest <c>netns</c> or <c>container</c> value (a name of /run/netns is a file name: 255 bytes).</summary>
    public const int MaxNameLength = 255;

    /// <summary>A namespace or container name: 1 to 255 characters, none a control character.</summary>
    private static string ParseName(string key, string value) =>
        value.Length <= MaxNameLength && !value.Any(char.IsControl)
            ? value
            : throw new FilterException(key, $"bad {key} '{value}'; expected a name of 1 to {MaxNameLength} characters without control characters");

    /// <summary>A host name as agents report it: 1 to 253 letters, digits, '-', '.' or '_'; or <c>*</c>, every host.</summary>
    private static string ParseHost(string value) =>
        value == AllHosts || value.Length is > 0 and <= 253 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_')
            ? value
            : throw new FilterException("host", $"bad host name '{value}'; expected 1 to 253 letters, digits, '-', '.' or '_', or '*' for every host");

    /// <summary>Like <see cref="Parse(string?, IReadOnlyCollection{string}?)"/> without throwing: on failure, <paramref name="filter"/> is <see cref="Empty"/> and <paramref name="error"/> says why.</summary>
    public static bool TryParse(string? query, out Filter filter, out FilterException? error, IReadOnlyCollection<string>? otherKeys = null)
    {
        try
        {
            filter = Parse(query, otherKeys);
            error = null;
            return true;
        }
        catch (FilterException e)
        {
            filter = Empty;
            error = e;
            return false;
        }
    }

    private static void CheckLength(int length)
    {
        if (length > MaxQueryLength)
        {
            throw new FilterException("filter", $"the filter is longer than {MaxQueryLength} characters");
        }
    }

    private static void CountValue(string key, ref int values)
    {
        if (++values > MaxValues)
        {
            throw new FilterException(key, $"the filter has more than {MaxValues} values");
        }
    }

    private static void CheckOnce(string key, string? previous, string value, StringComparison comparison, string advice)
    {
        if (previous is not null && !previous.Equals(value, comparison))
        {
            throw new FilterException(key, $"{key} is given twice ('{previous}' and '{value}'); {advice}");
        }
    }

    private static void AddValues<T>(List<T> list, string? raw, string key, ref int values, Func<string, T> parse)
    {
        foreach (var part in (raw ?? "").Split(','))
        {
            var value = Decode(part, key).Trim();
            if (value.Length > 0)
            {
                CountValue(key, ref values);
                list.Add(parse(value));
            }
        }
    }

    /// <summary>Stands in the list of IANA ranges for a value that was an OS class (added to <paramref name="osClasses"/>).</summary>
    private const PortRange NotARange = (PortRange)byte.MaxValue;

    private static PortRange ParseRange(string value, List<OsPortClass> osClasses)
    {
        switch (value.ToLowerInvariant())
        {
            case "wellknown":
                return PortRange.WellKnown;
            case "registered":
                return PortRange.Registered;
            case "ephemeral":
                return PortRange.Ephemeral;
            case "os-ephemeral":
                osClasses.Add(OsPortClass.Ephemeral);
                return NotARange;
            case "privileged":
                osClasses.Add(OsPortClass.Privileged);
                return NotARange;
            default:
                throw new FilterException("range", $"unknown range '{value}'; expected wellknown, registered, ephemeral (IANA's), os-ephemeral or privileged (this machine's)");
        }
    }

    private static TransportProtocol ParseProtocol(string value) => value.ToLowerInvariant() switch
    {
        "tcp" => TransportProtocol.Tcp,
        "udp" => TransportProtocol.Udp,
        _ => throw new FilterException("proto", $"unknown proto '{value}'; expected tcp or udp"),
    };

    private static SocketState ParseState(string value) => SocketStates.TryParseQueryValue(value, out var state)
        ? state
        : throw new FilterException("state", $"unknown state '{value}'; expected {JoinOr(SocketStates.All.Select(s => s.ToQueryValue()))}");

    private static EndpointSide ParseSide(string value) => value.ToLowerInvariant() switch
    {
        "both" => EndpointSide.Both,
        "local" => EndpointSide.Local,
        "remote" => EndpointSide.Remote,
        _ => throw new FilterException("side", $"unknown side '{value}'; expected local, remote or both"),
    };

    /// <summary>
    /// Decodes a query component: <c>+</c> is a space, <c>%XX</c> a byte, and the bytes must be UTF-8. Unlike
    /// <see cref="Uri.UnescapeDataString(string)"/>, which leaves bad escapes as they are, a bad one is an error.
    /// </summary>
    private static string Decode(ReadOnlySpan<char> text, string key)
    {
        if (!text.ContainsAny('%', '+'))
        {
            return text.ToString();
        }

        var result = new StringBuilder(text.Length);
        var bytes = new List<byte>();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '%')
            {
                result.Append(text[i] == '+' ? ' ' : text[i]);
                continue;
            }

            bytes.Clear();
            var start = i;
            while (i < text.Length && text[i] == '%')
            {
                if (i + 2 >= text.Length || !char.IsAsciiHexDigit(text[i + 1]) || !char.IsAsciiHexDigit(text[i + 2]))
                {
                    var bad = text.Slice(i, Math.Min(3, text.Length - i));
                    throw new FilterException(key, $"invalid %-encoding '{bad}' in {key}; expected % followed by two hex digits");
                }

                bytes.Add(byte.Parse(text.Slice(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                i += 3;
            }

            try
            {
                result.Append(StrictUtf8.GetString([.. bytes]));
            }
            catch (DecoderFallbackException)
            {
                throw new FilterException(key, $"invalid %-encoding '{text[start..i]}' in {key}; the bytes are not UTF-8 text");
            }

            i--;
        }

        return result.ToString();
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static string JoinOr(IEnumerable<string> words)
    {
        var list = words.ToList();
        return list.Count <= 1 ? string.Concat(list) : string.Join(", ", list.Take(list.Count - 1)) + " or " + list[^1];
    }

    private static ImmutableArray<T> NormalizeEnums<T>(ImmutableArray<T> values)
        where T : struct, Enum
    {
        if (values.IsDefaultOrEmpty)
        {
            return [];
        }

        foreach (var value in values)
        {
            if (!Enum.IsDefined(value))
            {
                throw new ArgumentOutOfRangeException(nameof(values), value, $"{value} is not a {typeof(T).Name}.");
            }
        }

        return [.. values.Distinct().Order()];
    }

    /// <summary>Trimmed, lower case, no empties or duplicates, in ordinal order.</summary>
    private static ImmutableArray<string> NormalizeNames(ImmutableArray<string> values) =>
        values.IsDefaultOrEmpty
            ? []
            : [.. values.Where(v => !string.IsNullOrWhiteSpace(v)).Select(v => v.Trim().ToLowerInvariant()).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    /// <summary>Trimmed, lower case, no empties or duplicates; pids first in numeric order, then names in ordinal order.</summary>
    private static ImmutableArray<string> NormalizeProcesses(ImmutableArray<string> values)
    {
        if (values.IsDefaultOrEmpty)
        {
            return [];
        }

        static long Number(string value) =>
            long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : long.MaxValue;

        return
        [
            .. values
                .Where(v => !string.IsNullOrWhiteSpace(v))
                .Select(v => v.Trim().ToLowerInvariant())
                .Distinct(StringComparer.Ordinal)
                .OrderBy(Number)
                .ThenBy(v => v, StringComparer.Ordinal),
        ];
    }
}
