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
/// A user's view of the socket table. Criteria of different kinds must all hold; several values of one kind
/// are alternatives. It round-trips through a URL query string:
/// <c>range=registered,ephemeral&amp;proto=tcp&amp;state=established&amp;process=nginx,42&amp;port=80,8000-8999&amp;address=10.0.0.0/8&amp;q=text&amp;side=local</c>.
/// Values are held sorted and without duplicates, so equal filters format to the same query.
/// </summary>
public sealed record Filter
{
    /// <summary>The query keys a filter reads, in the order it writes them.</summary>
    public static IReadOnlyList<string> QueryKeys { get; } = ["range", "proto", "state", "process", "port", "address", "q", "side"];

    public static Filter Empty { get; } = new();

    public ImmutableArray<PortRange> Ranges { get; init; } = [];

    public ImmutableArray<TransportProtocol> Protocols { get; init; } = [];

    public ImmutableArray<SocketState> States { get; init; } = [];

    /// <summary>Process names (case-insensitive, whole name) or pids.</summary>
    public ImmutableArray<string> Processes { get; init; } = [];

    public ImmutableArray<PortSpan> Ports { get; init; } = [];

    public ImmutableArray<AddressPattern> Addresses { get; init; } = [];

    /// <summary>Free text matched, case-insensitively, against everything shown in a row.</summary>
    public string? Text { get; init; }

    public EndpointSide Side { get; init; }

    public bool IsEmpty => Ranges.IsEmpty && Protocols.IsEmpty && States.IsEmpty && Processes.IsEmpty
        && Ports.IsEmpty && Addresses.IsEmpty && string.IsNullOrEmpty(Text) && Side == EndpointSide.Both;

    /// <summary>This filter with <paramref name="range"/> added or removed.</summary>
    public Filter Toggle(PortRange range) => this with
    {
        Ranges = Normalize(Ranges.Contains(range) ? Ranges.Remove(range) : Ranges.Add(range)),
    };

    public Filter WithRanges(IEnumerable<PortRange> ranges) => this with { Ranges = Normalize([.. ranges]) };

    public Filter WithProtocols(IEnumerable<TransportProtocol> protocols) => this with { Protocols = Normalize([.. protocols]) };

    public Filter WithStates(IEnumerable<SocketState> states) => this with { States = Normalize([.. states]) };

    public Filter WithText(string? text) => this with { Text = string.IsNullOrWhiteSpace(text) ? null : text.Trim() };

    public bool Matches(Socket socket, ServiceNameRegistry? services = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (!Protocols.IsEmpty && !Protocols.Contains(socket.Protocol))
        {
            return false;
        }

        if (!States.IsEmpty && !States.Contains(socket.State))
        {
            return false;
        }

        if (!Processes.IsEmpty && !MatchesProcess(socket))
        {
            return false;
        }

        if (!Ranges.IsEmpty && !OnSide(socket, static (filter, endpoint) => filter.Ranges.Contains(PortRanges.Classify(endpoint.Port))))
        {
            return false;
        }

        if (!Ports.IsEmpty && !OnSide(socket, static (filter, endpoint) => ContainsPort(filter.Ports, endpoint.Port)))
        {
            return false;
        }

        if (!Addresses.IsEmpty && !OnSide(socket, static (filter, endpoint) => MatchesAddress(filter.Addresses, endpoint.Address), includeUnspecified: true))
        {
            return false;
        }

        return string.IsNullOrEmpty(Text) || MatchesText(socket, Text, services);
    }

    private bool OnSide(Socket socket, Func<Filter, Endpoint, bool> test, bool includeUnspecified = false)
    {
        // A wildcard remote (*:*) has no port and no range: it never satisfies a port or range criterion.
        var remoteCounts = includeUnspecified || !socket.Remote.IsUnspecified;
        return Side switch
        {
            EndpointSide.Local => test(this, socket.Local),
            EndpointSide.Remote => remoteCounts && test(this, socket.Remote),
            _ => test(this, socket.Local) || (remoteCounts && test(this, socket.Remote)),
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
            foreach (var wanted in Processes)
            {
                if (int.TryParse(wanted, NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                    ? owner.Pid == pid
                    : owner.Name.Equals(wanted, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool MatchesText(Socket socket, string text, ServiceNameRegistry? services)
    {
        static bool Has(string? haystack, string needle) =>
            haystack is not null && haystack.Contains(needle, StringComparison.OrdinalIgnoreCase);

        if (Has(socket.Local.ToString(), text) || Has(socket.Remote.ToString(), text)
            || Has(socket.State.ToDisplayName(), text) || Has(socket.Protocol.ToDisplayName(), text))
        {
            return true;
        }

        foreach (var owner in socket.Owners)
        {
            if (Has(owner.Name, text) || Has(owner.UserName, text)
                || Has(owner.Pid.ToString(CultureInfo.InvariantCulture), text))
            {
                return true;
            }
        }

        return services is not null
            && (Has(services.Lookup(socket.Local.Port, socket.Protocol), text)
                || (!socket.Remote.IsUnspecified && Has(services.Lookup(socket.Remote.Port, socket.Protocol), text)));
    }

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
                builder.Append(i == 0 ? "" : ",").Append(Uri.EscapeDataString(format(values[i])));
            }
        }

        Append("range", Ranges, r => r.ToQueryValue());
        Append("proto", Protocols, p => p.ToQueryValue());
        Append("state", States, s => s.ToQueryValue());
        Append("process", Processes, p => p);
        Append("port", Ports, p => p.ToString());
        Append("address", Addresses, a => a.ToString());
        if (!string.IsNullOrEmpty(Text))
        {
            Append("q", [Text], t => t);
        }

        if (Side != EndpointSide.Both)
        {
            Append("side", [Side], s => s == EndpointSide.Local ? "local" : "remote");
        }

        return builder.ToString();
    }

    public override string ToString() => ToQueryString();

    public bool Equals(Filter? other) => other is not null && ToQueryString() == other.ToQueryString();

    public override int GetHashCode() => ToQueryString().GetHashCode(StringComparison.Ordinal);

    /// <summary>Parses a query string (with or without '?'). Throws <see cref="FilterException"/> naming the bad parameter.</summary>
    /// <param name="query">The query string.</param>
    /// <param name="otherKeys">Keys that belong to the caller (e.g. <c>from</c>, <c>to</c>) and are ignored here.</param>
    public static Filter Parse(string? query, IReadOnlyCollection<string>? otherKeys = null)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        var text = (query ?? "").AsSpan();
        if (text.StartsWith("?"))
        {
            text = text[1..];
        }

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

    /// <summary>Parses key/value pairs whose values are still URL-encoded comma lists.</summary>
    public static Filter Parse(IEnumerable<KeyValuePair<string, string>> pairs, IReadOnlyCollection<string>? otherKeys = null)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var ranges = ImmutableArray.CreateBuilder<PortRange>();
        var protocols = ImmutableArray.CreateBuilder<TransportProtocol>();
        var states = ImmutableArray.CreateBuilder<SocketState>();
        var processes = ImmutableArray.CreateBuilder<string>();
        var ports = ImmutableArray.CreateBuilder<PortSpan>();
        var addresses = ImmutableArray.CreateBuilder<AddressPattern>();
        string? text = null;
        var side = EndpointSide.Both;

        foreach (var (rawKey, rawValue) in pairs)
        {
            var key = rawKey.ToLowerInvariant();
            if (otherKeys is not null && otherKeys.Contains(rawKey))
            {
                continue;
            }

            switch (key)
            {
                case "range":
                    foreach (var value in Values(rawValue, key))
                    {
                        ranges.Add(ParseRange(value));
                    }

                    break;
                case "proto":
                    foreach (var value in Values(rawValue, key))
                    {
                        protocols.Add(value.ToLowerInvariant() switch
                        {
                            "tcp" => TransportProtocol.Tcp,
                            "udp" => TransportProtocol.Udp,
                            _ => throw new FilterException(key, $"unknown proto '{value}'; expected tcp or udp"),
                        });
                    }

                    break;
                case "state":
                    foreach (var value in Values(rawValue, key))
                    {
                        states.Add(SocketStates.TryParseQueryValue(value, out var state)
                            ? state
                            : throw new FilterException(key, $"unknown state '{value}'; expected {JoinOr(SocketStates.All.Select(s => s.ToQueryValue()))}"));
                    }

                    break;
                case "process":
                    foreach (var value in Values(rawValue, key))
                    {
                        processes.Add(value);
                    }

                    break;
                case "port":
                    foreach (var value in Values(rawValue, key))
                    {
                        ports.Add(PortSpan.TryParse(value, out var span)
                            ? span
                            : throw new FilterException(key, $"invalid port '{value}'; expected a port from 0 to 65535 or a span such as 8000-8999"));
                    }

                    break;
                case "address":
                    foreach (var value in Values(rawValue, key))
                    {
                        addresses.Add(AddressPattern.TryParse(value, out var pattern)
                            ? pattern
                            : throw new FilterException(key, $"invalid address '{value}'; expected an IPv4 or IPv6 address or a CIDR network such as 10.0.0.0/8"));
                    }

                    break;
                case "q":
                    var decoded = Decode(rawValue, key).Trim();
                    text = decoded.Length == 0 ? text : decoded;
                    break;
                case "side":
                    var sideText = Decode(rawValue, key);
                    side = sideText.ToLowerInvariant() switch
                    {
                        "" or "both" => EndpointSide.Both,
                        "local" => EndpointSide.Local,
                        "remote" => EndpointSide.Remote,
                        _ => throw new FilterException(key, $"unknown side '{sideText}'; expected local or remote"),
                    };
                    break;
                default:
                    throw new FilterException(rawKey, $"unknown filter parameter '{rawKey}'; expected {JoinOr(QueryKeys)}");
            }
        }

        return new Filter
        {
            Ranges = Normalize(ranges.ToImmutable()),
            Protocols = Normalize(protocols.ToImmutable()),
            States = Normalize(states.ToImmutable()),
            Processes = [.. processes.Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal)],
            Ports = [.. ports.Distinct().OrderBy(p => p.First).ThenBy(p => p.Last)],
            Addresses = [.. addresses.Distinct().OrderBy(a => a.ToString(), StringComparer.Ordinal)],
            Text = text,
            Side = side,
        };
    }

    /// <summary>Like <see cref="Parse(string?, IReadOnlyCollection{string}?)"/> without throwing.</summary>
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

    private static PortRange ParseRange(string value) => value.ToLowerInvariant() switch
    {
        "wellknown" => PortRange.WellKnown,
        "registered" => PortRange.Registered,
        "ephemeral" => PortRange.Ephemeral,
        _ => throw new FilterException("range", $"unknown range '{value}'; expected wellknown, registered or ephemeral"),
    };

    private static IEnumerable<string> Values(string raw, string key)
    {
        foreach (var part in raw.Split(','))
        {
            var value = Decode(part, key).Trim();
            if (value.Length > 0)
            {
                yield return value;
            }
        }
    }

    private static string Decode(ReadOnlySpan<char> text, string key)
    {
        try
        {
            return Uri.UnescapeDataString(text.ToString().Replace('+', ' '));
        }
        catch (UriFormatException)
        {
            throw new FilterException(key, $"'{text}' is not valid URL encoding");
        }
    }

    private static string JoinOr(IEnumerable<string> words)
    {
        var list = words.ToList();
        return list.Count <= 1 ? string.Concat(list) : string.Join(", ", list.Take(list.Count - 1)) + " or " + list[^1];
    }

    private static ImmutableArray<T> Normalize<T>(ImmutableArray<T> values)
        where T : struct, Enum => [.. values.Distinct().Order()];
}
