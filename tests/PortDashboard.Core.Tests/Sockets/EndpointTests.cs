using PortDashboard.Core.Sockets;

namespace PortDashboard.Core.Tests.Sockets;

public class EndpointTests
{
    private static Endpoint E(string address, int port) => new(NetAddress.Parse(address), port);

    [Theory]
    [InlineData("127.0.0.1", 80, "127.0.0.1:80")]
    [InlineData("::1", 443, "[::1]:443")]
    [InlineData("0.0.0.0", 22, "*:22")]
    [InlineData("::", 22, "*:22")]
    [InlineData("0.0.0.0", 0, "*:*")]
    [InlineData("::", 0, "*:*")]
    [InlineData("10.0.0.1", 0, "10.0.0.1:0")] // port 0 on a real address is a port, not "none"
    [InlineData("::ffff:127.0.0.1", 8080, "[::ffff:127.0.0.1]:8080")]
    [InlineData("2001:db8::1", 65535, "[2001:db8::1]:65535")]
    [InlineData("fe80::1", 1, "[fe80::1]:1")]
    public void Endpoints_are_written_as_ss_writes_them(string address, int port, string expected)
    {
        var endpoint = E(address, port);
        Span<char> buffer = stackalloc char[Endpoint.MaxTextLength];

        Assert.Equal(expected, endpoint.ToString());
        Assert.True(endpoint.TryFormat(buffer, out var written));
        Assert.Equal(expected, buffer[..written].ToString());
        Assert.Equal(expected, $"{endpoint}");
    }

    [Theory]
    [InlineData("0.0.0.0", 0, true)]
    [InlineData("::", 0, true)]
    [InlineData("0.0.0.0", 1, false)]
    [InlineData("127.0.0.1", 0, false)]
    [InlineData("::ffff:0.0.0.0", 0, false)]
    public void Only_port_0_on_a_wildcard_address_is_unspecified(string address, int port, bool expected) =>
        Assert.Equal(expected, E(address, port).IsUnspecified);

    [Fact]
    public void The_default_endpoint_is_unspecified() => Assert.True(default(Endpoint).IsUnspecified);

    [Fact]
    public void Formatting_into_a_short_buffer_fails_without_throwing()
    {
        var endpoint = E("2001:db8::1", 443);
        var text = endpoint.ToString();
        Span<char> buffer = stackalloc char[Endpoint.MaxTextLength];

        for (var size = 0; size < text.Length; size++)
        {
            Assert.False(endpoint.TryFormat(buffer[..size], out _), $"size {size}");
        }

        Assert.True(endpoint.TryFormat(buffer[..text.Length], out var written));
        Assert.Equal(text.Length, written);
    }

    [Fact]
    public void The_longest_endpoint_fits_MaxTextLength()
    {
        var longest = E("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", int.MinValue);
        Span<char> buffer = stackalloc char[Endpoint.MaxTextLength];

        Assert.True(longest.TryFormat(buffer, out var written));
        Assert.Equal("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:-2147483648", buffer[..written].ToString());
    }

    [Fact]
    public void Endpoints_are_equal_by_address_and_port()
    {
        Assert.Equal(E("127.0.0.1", 80), E("127.0.0.1", 80));
        Assert.NotEqual(E("127.0.0.1", 80), E("127.0.0.1", 81));
        Assert.NotEqual(E("127.0.0.1", 80), E("::ffff:127.0.0.1", 80));
    }

    [Fact]
    public void Formatting_allocates_nothing()
    {
        Span<char> buffer = stackalloc char[Endpoint.MaxTextLength];
        Endpoint[] endpoints = [E("127.0.0.1", 80), E("::1", 443), E("0.0.0.0", 0), E("::ffff:10.0.0.1", 5432)];
        foreach (var endpoint in endpoints)
        {
            endpoint.TryFormat(buffer, out _);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            foreach (var endpoint in endpoints)
            {
                endpoint.TryFormat(buffer, out _);
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
