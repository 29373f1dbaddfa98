using System.Collections.Immutable;
using PortDashboard.Core.Filtering;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Core.Tests.Filtering;

/// <summary>The query-string form of <see cref="Filter"/>: round trips, canonical form, and every error message.</summary>
public class FilterQueryTests
{
    public static TheoryData<string> CanonicalQueries => new(
    [
        "",
        "range=wellknown",
        "range=registered",
        "range=ephemeral",
        "range=wellknown,registered,ephemeral",
        "proto=tcp",
        "proto=udp",
        "proto=tcp,udp",
        "state=established",
        "state=listen,unconnected",
        "state=established,syn-sent,syn-recv,fin-wait-1,fin-wait-2,time-wait,close,close-wait,last-ack,listen,closing,new-syn-recv,unconnected",
        "process=nginx",
        "process=42",
        "process=7,42,nginx,sshd",
        "process=my%20app",
        "process=a%2Cb",
        "process=caf%C3%A9",
        "process=%E6%97%A5%E6%9C%AC",
        "process=kworker/0:1",
        "port=80",
        "port=0",
        "port=65535",
        "port=8000-8999",
        "port=0-65535",
        "port=22,80,443,8000-8999,8080",
        "address=127.0.0.1",
        "address=0.0.0.0",
        "address=10.0.0.0/8",
        "address=0.0.0.0/0",
        "address=192.168.1.0/24,192.168.1.128/25",
        "address=::1",
        "address=::",
        "address=::/0",
        "address=fe80::/10",
        "address=2001:db8::/32",
        "address=2001:db8::1:0:0:1",
        "address=10.0.0.0/8,127.0.0.1,::1,fe80::/10",
        "q=nginx",
        "q=hello%20world",
        "q=a%2Cb",
        "q=a%26b%3Dc",
        "q=50%25",
        "q=a%2Bb",
        "q=%3F%23",
        "q=caf%C3%A9%20%F0%9F%98%80",
        "q=127.0.0.1:80",
        "q=%5B::1%5D:443",
        "side=local",
        "side=remote",
        "range=registered,ephemeral&proto=tcp&state=established",
        "range=wellknown&proto=udp&state=unconnected&process=42,systemd-resolve&port=53,5353&address=127.0.0.53,::1&q=dns%20cache&side=local",
        "netns=host",
        "netns=4026532281,host,net:%5B4026532281%5D,pd-a",
        "container=docker:3f2a9c1b7d4e",
        "container=3f2a9c1b7d4e,nginx.service,podman:0123456789ab",
        "proto=tcp&side=local&netns=pd-a&container=k8s:aabbccddeeff&host=web-1",
    ]);

    [Theory]
    [MemberData(nameof(CanonicalQueries))]
    public void A_canonical_query_formats_back_to_itself(string query)
    {
        var filter = Filter.Parse(query);

        Assert.Equal(query, filter.ToQueryString());
        Assert.Equal(query, filter.ToString());
        AssertSameFields(filter, Filter.Parse(filter.ToQueryString()));
    }

    public static TheoryData<Filter> Filters => new(
    [
        Filter.Empty,
        new Filter { Ranges = [PortRange.Ephemeral, PortRange.WellKnown] },
        new Filter { Protocols = [TransportProtocol.Udp] },
        new Filter { States = [SocketState.TimeWait, SocketState.Listen, SocketState.NewSynRecv] },
        new Filter { Processes = ["nginx", "1234", "a,b", "x&y=z", "50%", "plus+sign", "white space", "ünïcødé", "😀", "kworker/u8:2", "q?#"] },
        new Filter { Ports = [new PortSpan(443), new PortSpan(8000, 8999), new PortSpan(0), new PortSpan(65535), new PortSpan(0, 65535)] },
        new Filter { Ports = [new PortSpan(80, 80), new PortSpan(79, 81)] },
        new Filter { Addresses = [AddressPattern.Single(NetAddress.Parse("127.0.0.1")), new AddressPattern(NetAddress.Parse("10.0.0.0"), 8)] },
        new Filter { Addresses = [new AddressPattern(NetAddress.Parse("fe80::"), 10), AddressPattern.Single(NetAddress.Parse("::1")), new AddressPattern(NetAddress.AnyV6, 0)] },
        new Filter { Addresses = [new AddressPattern(NetAddress.Parse("2001:db8:0:1:8000::"), 65), new AddressPattern(NetAddress.Parse("1.2.3.4"), 31)] },
        new Filter { Text = "free text with spaces" },
        new Filter { Text = "commas, ampersands & equals = signs; plus + percent % hash # question ?" },
        new Filter { Text = "ünïcødé 日本語 😀 ‮" },
        new Filter { Text = "[::1]:443 / tab\tinside" },
        new Filter { Side = EndpointSide.Local },
        new Filter { Side = EndpointSide.Remote },
        new Filter { Namespaces = ["host", "pd-a", "net:[4026532281]", "4026532281", "a,b&c=d", "ünï"] },
        new Filter { Containers = ["docker:3f2a9c1b7d4e", "nginx.service", "user@1000.service", "x y"] },
        new Filter
        {
            Ranges = [PortRange.Registered], Protocols = [TransportProtocol.Tcp], States = [SocketState.Established],
            Processes = ["postgres", "99"], Ports = [new PortSpan(5432)], Addresses = [new AddressPattern(NetAddress.Parse("10.0.0.0"), 8)],
            Text = "db", Side = EndpointSide.Remote,
        },
    ]);

    [Theory]
    [MemberData(nameof(Filters))]
    public void Every_field_round_trips_through_the_query_string(Filter filter)
    {
        var parsed = Filter.Parse(filter.ToQueryString());

        AssertSameFields(filter, parsed);
        Assert.Equal(filter, parsed);
        Assert.Equal(filter.GetHashCode(), parsed.GetHashCode());
        Assert.Equal(filter.ToQueryString(), parsed.ToQueryString());
    }

    [Fact]
    public void Random_filters_round_trip()
    {
        var random = new Random(20261128);
        string[] words = ["nginx", "42", "a,b", "x y", "é", "%", "&", "=", "+", "😀", "7", "Z"];
        T[] Some<T>(T[] from) => [.. from.Where(_ => random.Next(3) == 0)];
        for (var i = 0; i < 500; i++)
        {
            var filter = new Filter
            {
                Ranges = [.. Some(Enum.GetValues<PortRange>())],
                Protocols = [.. Some(Enum.GetValues<TransportProtocol>())],
                States = [.. Some(SocketStates.All.ToArray())],
                Processes = [.. Some(words)],
                Ports = [.. Enumerable.Range(0, random.Next(4)).Select(_ => random.Next(65536)).Select(p => new PortSpan(p, Math.Min(65535, p + random.Next(3) * random.Next(1000))))],
                Addresses = [.. Enumerable.Range(0, random.Next(4)).Select(_ => RandomPattern(random))],
                Text = random.Next(2) == 0 ? null : string.Join(' ', Some(words)),
                Side = (EndpointSide)random.Next(3),
                Namespaces = [.. Some(words)],
                Containers = [.. Some(words)],
            };

            var parsed = Filter.Parse(filter.ToQueryString());

            AssertSameFields(filter, parsed);
            Assert.Equal(filter.ToQueryString(), parsed.ToQueryString());
        }
    }

    private static AddressPattern RandomPattern(Random random)
    {
        var bytes = new byte[random.Next(2) == 0 ? 4 : 16];
        random.NextBytes(bytes);
        return new AddressPattern(NetAddress.FromBytes(bytes), random.Next((bytes.Length * 8) + 1));
    }

    [Theory]
    [InlineData("?range=wellknown", "range=wellknown")]
    [InlineData("?", "")]
    [InlineData("range=ephemeral,wellknown,ephemeral", "range=wellknown,ephemeral")]
    [InlineData("RANGE=WellKnown&Proto=TCP&STATE=Time-Wait&Side=Local", "range=wellknown&proto=tcp&state=time-wait&side=local")]
    [InlineData("side=local&q=x&address=::1&port=1&process=a&state=listen&proto=tcp&range=registered",
        "range=registered&proto=tcp&state=listen&process=a&port=1&address=::1&q=x&side=local")]
    [InlineData("port=443&range=wellknown&port=80", "range=wellknown&port=80,443")]
    [InlineData("range=wellknown&range=ephemeral&range=wellknown", "range=wellknown,ephemeral")]
    [InlineData("state=listen&state=established", "state=established,listen")]
    [InlineData("process=Nginx,NGINX,nginx", "process=nginx")]
    [InlineData("process=sshd,100,9,nginx", "process=9,100,nginx,sshd")]
    [InlineData("process=%20nginx%20", "process=nginx")]
    [InlineData("port=80-80", "port=80")]
    [InlineData("port=0080", "port=80")]
    [InlineData("port=9000-9999,80,8000-8999,80", "port=80,8000-8999,9000-9999")]
    [InlineData("address=10.1.2.3/8", "address=10.0.0.0/8")]
    [InlineData("address=10.0.0.1/32", "address=10.0.0.1")]
    [InlineData("address=2001:db8::1/128", "address=2001:db8::1")]
    [InlineData("address=::ffff:127.0.0.1", "address=127.0.0.1")]
    [InlineData("address=::ffff:10.0.0.0/104", "address=10.0.0.0/8")]
    [InlineData("address=%5B::1%5D", "address=::1")]
    [InlineData("address=FE80::/10", "address=fe80::/10")]
    [InlineData("address=2001:0db8:0000::/32", "address=2001:db8::/32")]
    [InlineData("address=fe80%3A%3A%2F10", "address=fe80::/10")]
    [InlineData("address=::1,10.0.0.0/8,9.0.0.0/8,10.0.0.0/16", "address=9.0.0.0/8,10.0.0.0/8,10.0.0.0/16,::1")]
    [InlineData("q=hello+world", "q=hello%20world")]
    [InlineData("q=%20%20padded%20", "q=padded")]
    [InlineData("q=a,b", "q=a%2Cb")]
    [InlineData("q=caf%c3%a9", "q=caf%C3%A9")]
    [InlineData("q=x&q=x", "q=x")]
    [InlineData("side=both", "")]
    [InlineData("side=remote&side=REMOTE", "side=remote")]
    [InlineData("r%61nge=wellknown", "range=wellknown")]
    [InlineData("proto=%74cp", "proto=tcp")]
    public void Queries_are_brought_to_canonical_form(string query, string canonical) =>
        Assert.Equal(canonical, Filter.Parse(query).ToQueryString());

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("&&&")]
    [InlineData("range=")]
    [InlineData("range")]
    [InlineData("range=,,")]
    [InlineData("range=&proto=&state=&process=&port=&address=&q=&side=")]
    [InlineData("q=%20%20")]
    [InlineData("q=+")]
    [InlineData("process=%20,%20")]
    public void Empty_values_make_an_empty_filter(string? query)
    {
        var filter = Filter.Parse(query);

        Assert.True(filter.IsEmpty);
        Assert.Equal(Filter.Empty, filter);
        Assert.Equal("", filter.ToQueryString());
    }

    [Fact]
    public void Empty_items_in_a_list_are_ignored() =>
        Assert.Equal("range=wellknown,ephemeral", Filter.Parse("range=,wellknown,,ephemeral,").ToQueryString());

    [Fact]
    public void An_encoded_comma_stays_inside_a_value()
    {
        var filter = Filter.Parse("process=a%2Cb,c");

        Assert.Equal(["a,b", "c"], filter.Processes);
    }

    [Fact]
    public void Keys_of_the_caller_are_ignored()
    {
        var filter = Filter.Parse("from=2026-01-01&range=wellknown&to=now", ["from", "to"]);

        Assert.Equal("range=wellknown", filter.ToQueryString());
    }

    [Fact]
    public void Pairs_parse_like_the_query_string()
    {
        KeyValuePair<string, string>[] pairs = [new("range", "ephemeral,wellknown"), new("q", "a%20b"), new("port", "80"), new("port", "443")];

        Assert.Equal(Filter.Parse("range=ephemeral,wellknown&q=a%20b&port=80&port=443"), Filter.Parse(pairs));
        Assert.Equal("range=wellknown,ephemeral&port=80,443&q=a%20b", Filter.Parse(pairs).ToQueryString());
    }

    public static TheoryData<string, string, string> BadQueries => new()
    {
        { "range=foo", "range", "unknown range 'foo'; expected wellknown, registered, ephemeral (IANA's), os-ephemeral or privileged (this machine's)" },
        { "range=wellknown,well-known", "range", "unknown range 'well-known'; expected wellknown, registered, ephemeral (IANA's), os-ephemeral or privileged (this machine's)" },
        { "proto=icmp", "proto", "unknown proto 'icmp'; expected tcp or udp" },
        { "proto=tcp6", "proto", "unknown proto 'tcp6'; expected tcp or udp" },
        {
            "state=open", "state",
            "unknown state 'open'; expected established, syn-sent, syn-recv, fin-wait-1, fin-wait-2, time-wait, close, close-wait, last-ack, listen, closing, new-syn-recv or unconnected"
        },
        { "port=http", "port", "invalid port 'http'; expected a port from 0 to 65535 or a span such as 8000-8999" },
        { "port=-1", "port", "invalid port '-1'; expected a port from 0 to 65535 or a span such as 8000-8999" },
        { "port=%2B80", "port", "invalid port '+80'; expected a port from 0 to 65535 or a span such as 8000-8999" },
        { "port=80-", "port", "invalid port '80-'; expected a port from 0 to 65535 or a span such as 8000-8999" },
        { "port=1-2-3", "port", "invalid port '1-2-3'; expected a port from 0 to 65535 or a span such as 8000-8999" },
        { "port=8%2E0", "port", "invalid port '8.0'; expected a port from 0 to 65535 or a span such as 8000-8999" },
        { "port=70000", "port", "port '70000' is out of range; expected a port from 0 to 65535" },
        { "port=65536", "port", "port '65536' is out of range; expected a port from 0 to 65535" },
        { "port=1-70000", "port", "port '1-70000' is out of range; expected a port from 0 to 65535" },
        { "port=99999999999999999999", "port", "port '99999999999999999999' is out of range; expected a port from 0 to 65535" },
        { "port=9000-8000", "port", "port span '9000-8000' is reversed; write it as 8000-9000" },
        {
            "address=foo", "address",
            "invalid address 'foo'; expected an IPv4 or IPv6 address or a CIDR network such as 10.0.0.0/8 or fe80::/10"
        },
        {
            "address=127.1", "address",
            "invalid address '127.1'; expected an IPv4 or IPv6 address or a CIDR network such as 10.0.0.0/8 or fe80::/10"
        },
        {
            "address=*", "address",
            "invalid address '*'; expected an IPv4 or IPv6 address or a CIDR network such as 10.0.0.0/8 or fe80::/10"
        },
        {
            "address=fe80::1%25eth0", "address",
            "invalid address 'fe80::1%eth0'; expected an IPv4 or IPv6 address or a CIDR network such as 10.0.0.0/8 or fe80::/10"
        },
        {
            "address=/8", "address",
            "invalid address '/8'; expected an IPv4 or IPv6 address or a CIDR network such as 10.0.0.0/8 or fe80::/10"
        },
        { "address=10.0.0.0/33", "address", "invalid prefix '/33' in '10.0.0.0/33'; expected 0 to 32 for an IPv4 network" },
        { "address=10.0.0.0/", "address", "invalid prefix '/' in '10.0.0.0/'; expected 0 to 32 for an IPv4 network" },
        { "address=10.0.0.0/-1", "address", "invalid prefix '/-1' in '10.0.0.0/-1'; expected 0 to 32 for an IPv4 network" },
        { "address=10.0.0.0/8/8", "address", "invalid prefix '/8/8' in '10.0.0.0/8/8'; expected 0 to 32 for an IPv4 network" },
        { "address=::/129", "address", "invalid prefix '/129' in '::/129'; expected 0 to 128 for an IPv6 network" },
        { "address=fe80::/x", "address", "invalid prefix '/x' in 'fe80::/x'; expected 0 to 128 for an IPv6 network" },
        { "side=up", "side", "unknown side 'up'; expected local, remote or both" },
        { "side=local&side=remote", "side", "side is given twice ('local' and 'remote'); give it once" },
        { "q=a&q=b", "q", "q is given twice ('a' and 'b'); give the free text once" },
        { "foo=bar", "foo", "unknown filter parameter 'foo'; expected range, proto, state, process, port, address, q, side, netns, container or host" },
        { "range=wellknown&Sort=port", "Sort", "unknown filter parameter 'Sort'; expected range, proto, state, process, port, address, q, side, netns, container or host" },
        { "=x", "", "unknown filter parameter ''; expected range, proto, state, process, port, address, q, side, netns, container or host" },
        { "q=100%", "q", "invalid %-encoding '%' in q; expected % followed by two hex digits" },
        { "q=%zz", "q", "invalid %-encoding '%zz' in q; expected % followed by two hex digits" },
        { "range=%4", "range", "invalid %-encoding '%4' in range; expected % followed by two hex digits" },
        { "process=a%2", "process", "invalid %-encoding '%2' in process; expected % followed by two hex digits" },
        { "q=%FF", "q", "invalid %-encoding '%FF' in q; the bytes are not UTF-8 text" },
        { "q=%C3%28", "q", "invalid %-encoding '%C3%28' in q; the bytes are not UTF-8 text" },
        { "q=%ED%A0%80", "q", "invalid %-encoding '%ED%A0%80' in q; the bytes are not UTF-8 text" }, // a UTF-16 surrogate
        { "side=%E2%82", "side", "invalid %-encoding '%E2%82' in side; the bytes are not UTF-8 text" },
        { "ra%zzge=x", "filter", "invalid %-encoding '%zz' in filter; expected % followed by two hex digits" },
        { "range=foo&proto=bar", "range", "unknown range 'foo'; expected wellknown, registered, ephemeral (IANA's), os-ephemeral or privileged (this machine's)" },
        { "host=web/1", "host", "bad host name 'web/1'; expected 1 to 253 letters, digits, '-', '.' or '_', or '*' for every host" },
        { "host=a%20b", "host", "bad host name 'a b'; expected 1 to 253 letters, digits, '-', '.' or '_', or '*' for every host" },
        { "netns=a%0Ab", "netns", "bad netns 'a\nb'; expected a name of 1 to 255 characters without control characters" },
        { "container=" + new string('c', 256), "container", $"bad container '{new string('c', 256)}'; expected a name of 1 to 255 characters without control characters" },
        { "netnss=x", "netnss", "unknown filter parameter 'netnss'; expected range, proto, state, process, port, address, q, side, netns, container or host" },
    };

    [Theory]
    [MemberData(nameof(BadQueries))]
    public void A_bad_value_is_rejected_with_a_message_that_says_what_is_accepted(string query, string parameter, string message)
    {
        var error = Assert.Throws<FilterException>(() => Filter.Parse(query));

        Assert.Equal(message, error.Message);
        Assert.Equal(parameter, error.Parameter);
        Assert.False(Filter.TryParse(query, out var filter, out var tried));
        Assert.Same(Filter.Empty, filter);
        Assert.Equal(message, tried?.Message);
    }

    [Fact]
    public void TryParse_answers_the_filter_when_the_query_is_good()
    {
        Assert.True(Filter.TryParse("?proto=udp", out var filter, out var error));

        Assert.Null(error);
        Assert.Equal([TransportProtocol.Udp], filter.Protocols);
    }

    [Fact]
    public void A_query_up_to_the_length_limit_is_read_and_a_longer_one_refused()
    {
        var longest = "q=" + new string('a', Filter.MaxQueryLength - 2);

        Assert.Equal(Filter.MaxQueryLength - 2, Filter.Parse(longest).Text?.Length);
        Assert.Equal(Filter.MaxQueryLength - 2, Filter.Parse("?" + longest).Text?.Length);

        var error = Assert.Throws<FilterException>(() => Filter.Parse(longest + "a"));
        Assert.Equal("the filter is longer than 4096 characters", error.Message);
        Assert.Equal("filter", error.Parameter);

        var huge = Assert.Throws<FilterException>(() => Filter.Parse("q=" + new string('%', 10_000_000)));
        Assert.Equal("the filter is longer than 4096 characters", huge.Message);
    }

    [Fact]
    public void Pairs_are_held_to_the_same_length_limit()
    {
        KeyValuePair<string, string>[] pairs = [new("q", new string('a', 3000)), new("process", new string('b', 3000))];

        var error = Assert.Throws<FilterException>(() => Filter.Parse(pairs));

        Assert.Equal("the filter is longer than 4096 characters", error.Message);
    }

    [Fact]
    public void Up_to_the_value_limit_is_read_and_more_are_refused()
    {
        var ports = Enumerable.Range(1, Filter.MaxValues).Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();

        Assert.Equal(Filter.MaxValues, Filter.Parse("port=" + string.Join(',', ports)).Ports.Length);

        var error = Assert.Throws<FilterException>(() => Filter.Parse("q=x&port=" + string.Join(',', ports)));
        Assert.Equal("the filter has more than 256 values", error.Message);
        Assert.Equal("port", error.Parameter);

        var repeated = Assert.Throws<FilterException>(() => Filter.Parse(string.Join('&', Enumerable.Repeat("proto=tcp", Filter.MaxValues + 1))));
        Assert.Equal("proto", repeated.Parameter);
    }

    internal static void AssertSameFields(Filter expected, Filter actual)
    {
        Assert.Equal(expected.Ranges, actual.Ranges);
        Assert.Equal(expected.OsClasses, actual.OsClasses);
        Assert.Equal(expected.Protocols, actual.Protocols);
        Assert.Equal(expected.States, actual.States);
        Assert.Equal(expected.Processes, actual.Processes);
        Assert.Equal(expected.Ports, actual.Ports);
        Assert.Equal(expected.Addresses, actual.Addresses);
        Assert.Equal(expected.Text, actual.Text);
        Assert.Equal(expected.Side, actual.Side);
        Assert.Equal(expected.Hosts, actual.Hosts);
        Assert.Equal(expected.Namespaces, actual.Namespaces);
        Assert.Equal(expected.Containers, actual.Containers);
        Assert.Equal(expected.IsEmpty, actual.IsEmpty);
    }

    [Fact]
    public void Hosts_are_read_case_insensitively_and_written_last_lower_case_sorted()
    {
        var filter = Filter.Parse("host=Web-2,web-1,WEB-2&range=wellknown");

        Assert.Equal(["web-1", "web-2"], filter.Hosts);
        Assert.False(filter.IsEmpty);
        Assert.Equal("range=wellknown&host=web-1,web-2", filter.ToQueryString());
        AssertSameFields(filter, Filter.Parse(filter.ToQueryString()));
        Assert.True(filter.MatchesHost("WEB-1"));
        Assert.False(filter.MatchesHost("web-3"));
        Assert.True(Filter.Parse("range=wellknown").MatchesHost("any-host")); // no host= is every host
        Assert.True(Filter.Parse("host=db.example_1").MatchesHost("db.example_1"));
    }

    [Fact]
    public void Host_star_names_every_host_and_round_trips()
    {
        var filter = Filter.Parse("host=*&range=ephemeral");

        Assert.True(filter.SelectsAllHosts);
        Assert.True(filter.MatchesHost("web-1"));
        Assert.True(filter.MatchesHost("any.other_host"));
        AssertSameFields(filter, Filter.Parse(filter.ToQueryString()));
        Assert.False(Filter.Parse("host=web-1").SelectsAllHosts);
        Assert.Equal("bad host name 'we*b'; expected 1 to 253 letters, digits, '-', '.' or '_', or '*' for every host",
            Assert.Throws<FilterException>(() => Filter.Parse("host=we*b")).Message);
    }
}
