using System.Collections.Immutable;
using PortDashboard.Core.Filtering;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Core.Tests.Filtering;

/// <summary>What a <see cref="Filter"/> lets through.</summary>
public class FilterMatchTests
{
    private static readonly ProcessInfo Nginx = new(1200, 10, "nginx", 33, "www-data");
    private static readonly ProcessInfo NginxWorker = new(1201, 11, "nginx", 33, "www-data");
    private static readonly ProcessInfo Postgres = new(4242, 12, "postgres", 105, "postgres");
    private static readonly ProcessInfo Curl = new(777, 13, "curl", 1000, "alice");

    private static Socket S(
        string local,
        string remote,
        SocketState state = SocketState.Established,
        TransportProtocol protocol = TransportProtocol.Tcp,
        params ProcessInfo[] owners)
    {
        var l = ParseEndpoint(local);
        var r = ParseEndpoint(remote);
        return new Socket(protocol, l.Address.IsIPv6 ? IpVersion.IPv6 : IpVersion.IPv4, l, r, state, 1, 0, owners: [.. owners]);
    }

    /// <summary><c>1.2.3.4:80</c>, <c>[::1]:443</c>, <c>*:22</c>, <c>*:*</c> (<c>*</c> is the IPv4 wildcard unless the other end is IPv6).</summary>
    private static Endpoint ParseEndpoint(string text)
    {
        var colon = text.LastIndexOf(':');
        var address = text[..colon].Trim('[', ']');
        var port = text[(colon + 1)..];
        return new Endpoint(
            address == "*" ? NetAddress.AnyV4 : NetAddress.Parse(address),
            port == "*" ? 0 : int.Parse(port, System.Globalization.CultureInfo.InvariantCulture));
    }

    private static readonly Socket WebListener = S("*:80", "*:*", SocketState.Listen, TransportProtocol.Tcp, Nginx, NginxWorker);
    private static readonly Socket WebConnection = S("10.0.0.5:80", "203.0.113.9:51000", SocketState.Established, TransportProtocol.Tcp, NginxWorker);
    private static readonly Socket DbListener = S("127.0.0.1:5432", "*:*", SocketState.Listen, TransportProtocol.Tcp, Postgres);
    private static readonly Socket DbClient = S("127.0.0.1:40000", "127.0.0.1:5432", SocketState.Established, TransportProtocol.Tcp, Curl);
    private static readonly Socket Mapped = S("[::ffff:127.0.0.1]:8080", "[::ffff:127.0.0.1]:60000", SocketState.Established, TransportProtocol.Tcp, Curl);
    private static readonly Socket LinkLocal = S("[fe80::1]:22", "[fe80::abcd]:50022", SocketState.Established);
    private static readonly Socket Dns = S("127.0.0.53:53", "*:*", SocketState.Unconnected, TransportProtocol.Udp);
    private static readonly Socket TimeWait = S("127.0.0.1:40001", "127.0.0.1:5432", SocketState.TimeWait);

    private static readonly Socket[] Table = [WebListener, WebConnection, DbListener, DbClient, Mapped, LinkLocal, Dns, TimeWait];

    private static Socket[] Matching(string query, ServiceNameRegistry? services = null)
    {
        var filter = Filter.Parse(query);
        return [.. Table.Where(s => filter.Matches(s, services))];
    }

    [Fact]
    public void The_empty_filter_matches_everything() => Assert.Equal(Table, Matching(""));

    [Fact]
    public void The_free_text_finds_a_remote_addresss_name_when_names_are_given_and_only_then()
    {
        var asked = new List<NetAddress>();
        string? NameOf(NetAddress address)
        {
            asked.Add(address);
            return address == NetAddress.Parse("203.0.113.9") ? "client.example.test" : null;
        }

        var filter = Filter.Parse("q=CLIENT.example");
        Assert.Equal([WebConnection], Table.Where(s => filter.Matches(s, remoteNames: NameOf)));
        Assert.DoesNotContain(Table, s => filter.Matches(s)); // numbers only: no names, no match
        Assert.DoesNotContain(asked, a => a.IsWildcard); // a listener's unspecified peer is never named
        Assert.True(Filter.Parse("q=client%20nginx").Matches(WebConnection, remoteNames: NameOf)); // a name is one more word source
    }

    [Fact]
    public void Different_kinds_must_all_hold()
    {
        Assert.Equal([WebListener, DbListener], Matching("proto=tcp&state=listen"));
        Assert.Equal([DbListener], Matching("proto=tcp&state=listen&port=5432"));
        Assert.Empty(Matching("proto=udp&state=listen"));
    }

    [Fact]
    public void Values_of_one_kind_are_alternatives()
    {
        Assert.Equal([WebListener, DbListener, Dns], Matching("state=listen,unconnected"));
        Assert.Equal(Table, Matching("proto=tcp,udp"));
        Assert.Equal([WebListener, WebConnection, Dns], Matching("port=53,80"));
    }

    [Fact]
    public void Ranges_classify_each_endpoints_port()
    {
        Assert.Equal([WebListener, WebConnection, LinkLocal, Dns], Matching("range=wellknown"));
        Assert.Equal([WebConnection, Mapped, LinkLocal], Matching("range=ephemeral"));
        Assert.Equal([WebConnection, Mapped, LinkLocal], Matching("range=ephemeral&side=remote"));
        Assert.Equal([DbListener, DbClient, Mapped, TimeWait], Matching("range=registered&side=local"));
    }

    [Fact]
    public void Side_chooses_the_endpoint_the_endpoint_criteria_look_at()
    {
        Assert.Equal([DbListener, DbClient, TimeWait], Matching("port=5432"));
        Assert.Equal([DbListener], Matching("port=5432&side=local"));
        Assert.Equal([DbClient, TimeWait], Matching("port=5432&side=remote"));
        Assert.Equal([DbListener, DbClient, TimeWait], Matching("port=5432&side=both"));
    }

    [Fact]
    public void A_wildcard_remote_has_no_range_port_or_address()
    {
        // Listeners and unconnected UDP sockets have *:* as their remote: port 0 is not a well-known port there.
        Assert.Empty(Matching("port=0"));
        Assert.DoesNotContain(Matching("range=wellknown&side=remote"), s => s.Remote.IsUnspecified);
        Assert.DoesNotContain(DbListener, Matching("address=0.0.0.0"));
        Assert.Equal([WebListener], Matching("address=0.0.0.0")); // the listener bound to every address
        Assert.Equal([WebListener], Matching("address=0.0.0.0&side=local"));
        Assert.Empty(Matching("address=0.0.0.0&side=remote"));
        Assert.Equal([WebConnection, DbClient, Mapped, LinkLocal, TimeWait], Matching("address=0.0.0.0/0,::/0&side=remote"));
    }

    [Fact]
    public void Each_endpoint_criterion_holds_on_its_own_unless_a_side_ties_them()
    {
        // With both sides, the port may be on one end and the address on the other (as Wireshark's tcp.port and ip.addr).
        Assert.Equal([WebConnection], Matching("port=80&address=203.0.113.0/24"));
        Assert.Empty(Matching("port=80&address=203.0.113.0/24&side=remote"));
        Assert.Equal([WebConnection], Matching("port=80&address=10.0.0.0/8&side=local"));
    }

    [Fact]
    public void An_IPv4_address_matches_its_IPv4_mapped_form()
    {
        Assert.Equal([DbListener, DbClient, Mapped, TimeWait], Matching("address=127.0.0.1"));
        Assert.Equal([DbListener, DbClient, Mapped, Dns, TimeWait], Matching("address=127.0.0.0/8"));
        Assert.Equal([DbListener, DbClient, Mapped, TimeWait], Matching("address=::ffff:127.0.0.1"));
        Assert.Empty(Matching("address=::1"));
    }

    [Fact]
    public void IPv6_networks_match_by_prefix()
    {
        Assert.Equal([LinkLocal], Matching("address=fe80::/10"));
        Assert.Equal([LinkLocal], Matching("address=fe80::abcd&side=remote"));
        Assert.Empty(Matching("address=fe80::abcd&side=local"));
        Assert.Empty(Matching("address=fec0::/10"));
        Assert.Equal([LinkLocal], Matching("address=fe80::/127")); // fe80::1 is in fe80::/127
        Assert.Equal([Mapped, LinkLocal], Matching("address=::/0")); // a mapped address is IPv6 too
    }

    [Fact]
    public void An_IPv6_pattern_does_not_match_IPv4_and_an_IPv4_one_not_IPv6()
    {
        Assert.DoesNotContain(DbClient, Matching("address=::/0"));
        Assert.DoesNotContain(LinkLocal, Matching("address=0.0.0.0/0"));
    }

    [Fact]
    public void A_process_is_named_case_insensitively_or_by_pid()
    {
        Assert.Equal([WebListener, WebConnection], Matching("process=NGINX"));
        Assert.Equal([WebListener, WebConnection], Matching("process=1201"));
        Assert.Equal([WebListener], Matching("process=1200"));
        Assert.Equal([WebListener, WebConnection, DbListener], Matching("process=postgres,1201"));
        Assert.Empty(Matching("process=ngin"));
        Assert.Empty(Matching("process=99999"));
    }

    [Fact]
    public void Any_of_several_owners_satisfies_a_process_criterion()
    {
        var shared = S("0.0.0.0:8080", "*:*", SocketState.Listen, TransportProtocol.Tcp, Nginx, Postgres, Curl);

        Assert.True(Filter.Parse("process=curl").Matches(shared));
        Assert.True(Filter.Parse("process=4242").Matches(shared));
        Assert.False(Filter.Parse("process=sshd").Matches(shared));
    }

    [Fact]
    public void A_socket_without_owners_matches_no_process()
    {
        Assert.DoesNotContain(TimeWait, Matching("process=curl,postgres,nginx,0"));
        Assert.DoesNotContain(Dns, Matching("process=systemd-resolve"));
    }

    [Fact]
    public void A_number_is_also_a_process_name()
    {
        var named = S("127.0.0.1:9000", "*:*", SocketState.Listen, TransportProtocol.Tcp, new ProcessInfo(5, 1, "1234", 0, "root"));

        Assert.True(Filter.Parse("process=1234").Matches(named));
        Assert.True(Filter.Parse("process=5").Matches(named));
    }

    [Theory]
    [InlineData("q=nginx", new[] { 0, 1 })]
    [InlineData("q=NGINX", new[] { 0, 1 })]
    [InlineData("q=www-data", new[] { 0, 1 })] // user
    [InlineData("q=4242", new[] { 2 })] // pid
    [InlineData("q=127.0.0.1:5432", new[] { 2, 3, 7 })] // endpoint text
    [InlineData("q=0.1:54", new[] { 2, 3, 7 })] // any part of it
    [InlineData("q=%5B::ffff:127.0.0.1%5D", new[] { 4 })]
    [InlineData("q=fe80::abcd", new[] { 5 })]
    [InlineData("q=*:80", new[] { 0 })]
    [InlineData("q=*:*", new[] { 0, 2, 6 })]
    [InlineData("q=listen", new[] { 0, 2 })] // state, as shown and as in URLs
    [InlineData("q=time-wait", new[] { 7 })]
    [InlineData("q=UNCONN", new[] { 6 })]
    [InlineData("q=unconnected", new[] { 6 })]
    [InlineData("q=udp", new[] { 6 })] // protocol
    [InlineData("q=nginx%20listen", new[] { 0 })] // every word must occur
    [InlineData("q=listen%20%20%20nginx", new[] { 0 })]
    [InlineData("q=nginx%20established", new[] { 1 })]
    [InlineData("q=nginx%20postgres", new int[0])]
    [InlineData("q=no-such-thing", new int[0])]
    public void Free_text_looks_at_everything_shown(string query, int[] expected) =>
        Assert.Equal(expected.Select(i => Table[i]), Matching(query));

    [Fact]
    public void Free_text_finds_service_names_when_given_the_registry()
    {
        var services = ServiceNameRegistry.LoadDefault(etcServicesPath: null);

        Assert.Empty(Matching("q=postgresql"));
        Assert.Equal([DbListener, DbClient, TimeWait], Matching("q=postgresql", services));
        Assert.Equal([Dns], Matching("q=domain", services));
        Assert.Equal([WebListener, WebConnection, Mapped], Matching("q=http", services)); // 8080 is http-alt
        Assert.Equal([Mapped], Matching("q=http-alt", services));
        Assert.Equal([LinkLocal], Matching("q=ssh", services));
    }

    [Fact]
    public void Free_text_does_not_name_the_service_of_a_wildcard_remote()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "nothing 0/tcp\nsecure-shell 22/tcp\n");
            var services = ServiceNameRegistry.Load(path);
            var sshListener = S("*:22", "*:*", SocketState.Listen);

            Assert.Equal("nothing", services.Lookup(0, TransportProtocol.Tcp));
            Assert.True(Filter.Parse("q=secure-shell").Matches(sshListener, services));
            Assert.False(Filter.Parse("q=nothing").Matches(sshListener, services));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_filter_built_in_code_is_canonical_as_a_parsed_one()
    {
        var built = new Filter
        {
            Ranges = [PortRange.Ephemeral, PortRange.WellKnown, PortRange.Ephemeral],
            Processes = ["Nginx", " 42 ", "", "nginx"],
            Ports = [new PortSpan(443), new PortSpan(80), new PortSpan(443)],
            Text = "  padded  ",
        };

        Assert.Equal([PortRange.WellKnown, PortRange.Ephemeral], built.Ranges);
        Assert.Equal(["42", "nginx"], built.Processes);
        Assert.Equal([new PortSpan(80), new PortSpan(443)], built.Ports);
        Assert.Equal("padded", built.Text);
        Assert.Equal(Filter.Parse("range=ephemeral,wellknown&process=nginx,42&port=443,80&q=padded"), built);
        Assert.Equal([PortRange.WellKnown], (built with { Ranges = [PortRange.WellKnown, PortRange.WellKnown] }).Ranges);
    }

    [Fact]
    public void Default_arrays_and_blank_text_are_empty()
    {
        var filter = new Filter { Ranges = default, Processes = default, Ports = default, Addresses = default, Text = " \t " };

        Assert.True(filter.IsEmpty);
        Assert.Empty(filter.Ranges);
        Assert.Null(filter.Text);
        Assert.True(filter.Matches(DbClient));
    }

    [Fact]
    public void Toggle_adds_a_range_then_removes_it()
    {
        var once = Filter.Empty.Toggle(PortRange.Ephemeral).Toggle(PortRange.WellKnown);
        var twice = once.Toggle(PortRange.Ephemeral);

        Assert.Equal("range=wellknown,ephemeral", once.ToQueryString());
        Assert.Equal("range=wellknown", twice.ToQueryString());
        Assert.True(twice.Toggle(PortRange.WellKnown).IsEmpty);
    }

    [Fact]
    public void With_methods_replace_one_kind_and_keep_the_rest()
    {
        var filter = Filter.Parse("proto=tcp&q=x")
            .WithRanges([PortRange.Registered])
            .WithProtocols([TransportProtocol.Udp, TransportProtocol.Tcp])
            .WithStates([SocketState.Listen])
            .WithProcesses(["sshd"])
            .WithPorts([new PortSpan(22)])
            .WithAddresses([AddressPattern.Single(NetAddress.Parse("::1"))])
            .WithSide(EndpointSide.Local)
            .WithText("  y  ");

        Assert.Equal("range=registered&proto=tcp,udp&state=listen&process=sshd&port=22&address=::1&q=y&side=local", filter.ToQueryString());
        Assert.True(filter.WithText(null).Text is null);
    }

    [Fact]
    public void IsEmpty_is_false_for_any_criterion()
    {
        Assert.True(Filter.Empty.IsEmpty);
        Assert.False(Filter.Empty.WithSide(EndpointSide.Remote).IsEmpty);
        Assert.False(Filter.Empty.WithText("x").IsEmpty);
        Assert.False(Filter.Empty.Toggle(PortRange.WellKnown).IsEmpty);
        Assert.False(Filter.Empty.WithAddresses([default]).IsEmpty);
    }

    [Fact]
    public void Matches_refuses_a_null_socket() =>
        Assert.Throws<ArgumentNullException>(() => Filter.Empty.Matches(null!));

    [Fact]
    public void Patterns_and_spans_refuse_impossible_values()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PortSpan(9000, 8000));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PortSpan(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PortSpan(65536));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AddressPattern(NetAddress.AnyV4, 33));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AddressPattern(NetAddress.AnyV6, -1));
        Assert.Equal(ImmutableArray.Create(new PortSpan(0)), Filter.Empty.WithPorts([default]).Ports);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Filter { Ranges = [(PortRange)9] });
        Assert.Throws<ArgumentOutOfRangeException>(() => new Filter { Protocols = [(TransportProtocol)9] });
        Assert.Throws<ArgumentOutOfRangeException>(() => new Filter { States = [SocketState.Unknown] });
        Assert.Throws<ArgumentOutOfRangeException>(() => Filter.Empty.WithSide((EndpointSide)9));
    }
}
