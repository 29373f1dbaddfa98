using System.Net;
using System.Net.Sockets;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Core.Tests.Sockets;

public class NetAddressTests
{
    private static NetAddress A(string text) => NetAddress.Parse(text);

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1")]
    [InlineData("10.0.0.1", "10.0.0.1")]
    [InlineData("255.255.255.255", "255.255.255.255")]
    [InlineData("1.2.3.4", "1.2.3.4")]
    [InlineData("0.0.0.0", "*")]
    [InlineData("*", "*")]
    public void IPv4_is_a_dotted_quad_and_the_wildcard_a_star(string text, string expected) =>
        Assert.Equal(expected, A(text).ToString());

    [Theory]
    [InlineData("2001:db8::1", "2001:db8::1")]
    [InlineData("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1")] // lower case, no leading zeros (RFC 5952 4.1, 4.3)
    [InlineData("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1")] // of two equal runs, the first (4.2.3)
    [InlineData("1:0:0:2:0:0:0:3", "1:0:0:2::3")] // the longest run (4.2.3)
    [InlineData("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1")] // one zero group is not shortened (4.2.2)
    [InlineData("::1", "::1")]
    [InlineData("1::", "1::")]
    [InlineData("fe80::", "fe80::")]
    [InlineData("0:0:0:0:0:0:0:0", "*")]
    [InlineData("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")]
    [InlineData("::ffff:127.0.0.1", "::ffff:127.0.0.1")] // mapped: dotted tail (RFC 5952 5)
    [InlineData("0:0:0:0:0:ffff:7f00:1", "::ffff:127.0.0.1")]
    [InlineData("::ffff:0.0.0.1", "::ffff:0.0.0.1")]
    [InlineData("::10.0.0.1", "::10.0.0.1")] // IPv4-compatible, as inet_ntop writes it
    [InlineData("::0.0.0.1", "::1")]
    [InlineData("::fffe:1.2.3.4", "::fffe:102:304")]
    [InlineData("[2001:db8::5]", "2001:db8::5")]
    public void IPv6_is_written_as_RFC_5952_says(string text, string expected) =>
        Assert.Equal(expected, A(text).ToString());

    [Fact]
    public void Format_n_writes_a_wildcard_as_its_number()
    {
        Assert.Equal("0.0.0.0", NetAddress.AnyV4.ToString("n", null));
        Assert.Equal("::", NetAddress.AnyV6.ToString("n", null));
        Assert.Equal("10.0.0.1", A("10.0.0.1").ToString("n", null));
        Assert.Equal("::1", $"{A("::1")}");
    }

    [Fact]
    public void Formatting_agrees_with_System_Net_for_random_addresses()
    {
        var random = new Random(5952);
        Span<byte> bytes = stackalloc byte[16];
        for (var i = 0; i < 5000; i++)
        {
            random.NextBytes(bytes);
            for (var g = 0; g < 8; g++)
            {
                if (random.Next(2) == 0)
                {
                    bytes[2 * g] = bytes[(2 * g) + 1] = 0; // many zero groups: compression is what is tested
                }
            }

            // System.Net writes a dotted tail for more prefixes (SIIT, ISATAP) than inet_ntop: leave those out.
            var firstFourZero = bytes[..8].IndexOfAnyExcept((byte)0) < 0;
            if (firstFourZero || (bytes[8] == 0 && bytes[9] == 0 && bytes[10] == 0x5E && bytes[11] == 0xFE))
            {
                continue;
            }

            var expected = new IPAddress(bytes).ToString();
            var address = NetAddress.FromBytes(bytes);
            Assert.Equal(expected, address.IsWildcard ? "*" : address.ToString());
            Assert.Equal(address, A(expected));
        }
    }

    [Fact]
    public void Parsing_agrees_with_System_Net_and_round_trips()
    {
        var random = new Random(4291);
        var bytes = new byte[16];
        for (var i = 0; i < 5000; i++)
        {
            random.NextBytes(bytes);
            var length = random.Next(2) == 0 ? 4 : 16;
            var ip = new IPAddress(bytes.AsSpan(0, length));
            var full = length == 4 ? ip.ToString() : string.Join(':', Enumerable.Range(0, 8).Select(g => $"{bytes[2 * g]:x2}{bytes[(2 * g) + 1]:x2}"));

            Assert.True(NetAddress.TryParse(full, out var parsed), full);
            Assert.Equal(NetAddress.FromIPAddress(ip), parsed);
            Assert.Equal(ip, parsed.ToIPAddress());
            Assert.Equal(parsed, A(parsed.ToString("n", null)));
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("1")]
    [InlineData("127.1")] // shorthand forms System.Net accepts
    [InlineData("1.2.3")]
    [InlineData("0x7f.0.0.1")]
    [InlineData("010.0.0.1")] // a leading zero: octal to some parsers, so refused (as inet_pton does)
    [InlineData("256.0.0.1")]
    [InlineData("1.2.3.4.5")]
    [InlineData("1.2.3.")]
    [InlineData(".1.2.3")]
    [InlineData("1..2.3")]
    [InlineData(" 1.2.3.4")]
    [InlineData("1.2.3.4 ")]
    [InlineData("1.2.3.4:80")]
    [InlineData("1.2.3.-4")]
    [InlineData("[1.2.3.4]")]
    [InlineData("::1%eth0")] // a zone
    [InlineData("fe80::1%1")]
    [InlineData("[::1]:80")] // a port
    [InlineData("[::1")]
    [InlineData("1::2::3")]
    [InlineData("1:2:3:4:5:6:7:8:9")]
    [InlineData("1:2:3:4:5:6:7")]
    [InlineData("1:2:3:4::5:6:7:8")] // "::" must stand for at least one group
    [InlineData("12345::")]
    [InlineData("::g")]
    [InlineData(":1")]
    [InlineData("1:")]
    [InlineData(":")]
    [InlineData(":::")]
    [InlineData("1:::2")]
    [InlineData("1:2:3:4:5:6:7:1.2.3.4")]
    [InlineData("::1.2.3.4:5")]
    [InlineData("::ffff:010.0.0.1")]
    [InlineData("::ffff:1.2.3")]
    [InlineData("**")]
    [InlineData("localhost")]
    public void Parsing_is_strict(string text)
    {
        Assert.False(NetAddress.TryParse(text, out var address), text);
        Assert.Equal(default, address);
    }

    [Theory]
    [InlineData("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0")]
    [InlineData("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8")]
    [InlineData("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304")]
    [InlineData("::", "::")]
    [InlineData("[::1]", "::1")]
    [InlineData("FE80::ABCD", "fe80::abcd")]
    public void Parsing_accepts_every_RFC_4291_form(string text, string expected) =>
        Assert.Equal(IPAddress.Parse(expected).GetAddressBytes(), A(text).ToIPAddress().GetAddressBytes());

    [Fact]
    public void Bytes_are_in_network_order_whatever_the_host()
    {
        var loopback = NetAddress.FromBytes([127, 0, 0, 1]);
        Span<byte> written = stackalloc byte[16];

        loopback.WriteBytes(written);

        Assert.Equal(NetAddress.FromIPv4(0x7F000001), loopback);
        Assert.Equal([127, 0, 0, 1], written[..4].ToArray());
        Assert.Equal(4, loopback.ByteLength);
        Assert.Equal(AddressFamily.InterNetwork, loopback.AddressFamily);

        var v6 = NetAddress.FromIPv6(0x2001_0db8_0000_0000, 0x0000_0000_0000_0001);
        v6.WriteBytes(written);
        Assert.Equal("2001:db8::1", v6.ToString());
        Assert.Equal([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], written.ToArray());
        Assert.Equal(v6, NetAddress.FromBytes(written));
        Assert.Equal(16, v6.ByteLength);
        Assert.Equal(AddressFamily.InterNetworkV6, v6.AddressFamily);
        Assert.Throws<ArgumentException>(() => NetAddress.FromBytes([1, 2, 3]));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("::ffff:10.1.2.3")]
    [InlineData("2001:db8::8:800:200c:417a")]
    [InlineData("0.0.0.0")]
    public void IPAddress_conversions_round_trip(string text)
    {
        var ip = IPAddress.Parse(text);

        Assert.Equal(ip, NetAddress.FromIPAddress(ip).ToIPAddress());
        Assert.Equal(A(text), NetAddress.FromIPAddress(ip));
    }

    [Fact]
    public void IPv4_mapped_addresses_are_detected_and_unmapped()
    {
        var mapped = A("::ffff:192.168.1.20");

        Assert.True(mapped.IsIPv4Mapped);
        Assert.True(mapped.IsIPv6);
        Assert.Equal(A("192.168.1.20"), mapped.Unmapped);
        Assert.False(mapped.Unmapped.IsIPv6);
        Assert.NotEqual(A("192.168.1.20"), mapped); // different families are different addresses

        foreach (var other in new[] { "192.168.1.20", "::192.168.1.20", "::fffe:c0a8:114", "1::ffff:c0a8:114", "::1", "::" })
        {
            Assert.False(A(other).IsIPv4Mapped, other);
            Assert.Equal(A(other), A(other).Unmapped);
        }
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.255.255.254", true)]
    [InlineData("127.0.0.0", true)]
    [InlineData("::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("::ffff:127.1.2.3", true)]
    [InlineData("126.255.255.255", false)]
    [InlineData("128.0.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("::", false)]
    [InlineData("::2", false)]
    [InlineData("::127.0.0.1", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    [InlineData("1::1", false)]
    public void Loopback(string text, bool expected) => Assert.Equal(expected, A(text).IsLoopback);

    [Theory]
    [InlineData("0.0.0.0", true)]
    [InlineData("::", true)]
    [InlineData("*", true)]
    [InlineData("::ffff:0.0.0.0", false)]
    [InlineData("0.0.0.1", false)]
    [InlineData("::1", false)]
    public void Wildcard(string text, bool expected) => Assert.Equal(expected, A(text).IsWildcard);

    [Fact]
    public void The_default_address_is_the_IPv4_wildcard()
    {
        Assert.Equal(NetAddress.AnyV4, default);
        Assert.NotEqual(NetAddress.AnyV4, NetAddress.AnyV6);
        Assert.False(NetAddress.AnyV4.IsIPv6);
        Assert.True(NetAddress.AnyV6.IsIPv6);
    }

    [Theory]
    [InlineData("0.0.0.0", 0, "255.255.255.255", true)]
    [InlineData("10.0.0.0", 0, "0.0.0.0", true)]
    [InlineData("128.0.0.0", 1, "128.0.0.0", true)]
    [InlineData("128.0.0.0", 1, "255.255.255.255", true)]
    [InlineData("128.0.0.0", 1, "127.255.255.255", false)]
    [InlineData("0.0.0.0", 1, "127.255.255.255", true)]
    [InlineData("10.0.0.0", 31, "10.0.0.0", true)]
    [InlineData("10.0.0.0", 31, "10.0.0.1", true)]
    [InlineData("10.0.0.0", 31, "10.0.0.2", false)]
    [InlineData("10.0.0.0", 31, "9.255.255.255", false)]
    [InlineData("10.0.0.1", 31, "10.0.0.0", true)] // host bits of the network do not count
    [InlineData("10.0.0.7", 32, "10.0.0.7", true)]
    [InlineData("10.0.0.7", 32, "10.0.0.6", false)]
    [InlineData("10.0.0.7", 32, "10.0.0.8", false)]
    [InlineData("10.0.0.0", 8, "::ffff:10.200.0.1", true)] // mapped addresses are in IPv4 networks
    [InlineData("10.0.0.0", 8, "::ffff:11.0.0.1", false)]
    [InlineData("0.0.0.0", 0, "::1", false)] // IPv6 is in no IPv4 network
    [InlineData("0.0.0.0", 0, "::a00:1", false)] // not even IPv4-compatible
    public void IsInNetwork_at_IPv4_prefix_boundaries(string network, int prefix, string address, bool expected) =>
        Assert.Equal(expected, A(address).IsInNetwork(A(network), prefix));

    [Theory]
    [InlineData("::", 0, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true)]
    [InlineData("8000::", 1, "8000::", true)]
    [InlineData("8000::", 1, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true)]
    [InlineData("8000::", 1, "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false)]
    [InlineData("2001:db8:0:1::", 64, "2001:db8:0:1::", true)]
    [InlineData("2001:db8:0:1::", 64, "2001:db8:0:1:ffff:ffff:ffff:ffff", true)]
    [InlineData("2001:db8:0:1::", 64, "2001:db8:0:2::", false)]
    [InlineData("2001:db8:0:1::", 64, "2001:db8:0:0:ffff:ffff:ffff:ffff", false)]
    [InlineData("2001:db8:0:1:8000::", 65, "2001:db8:0:1:8000::", true)]
    [InlineData("2001:db8:0:1:8000::", 65, "2001:db8:0:1:ffff:ffff:ffff:ffff", true)]
    [InlineData("2001:db8:0:1:8000::", 65, "2001:db8:0:1:7fff:ffff:ffff:ffff", false)]
    [InlineData("2001:db8:0:1:8000::", 65, "2001:db8:0:2:8000::", false)]
    [InlineData("::", 127, "::1", true)]
    [InlineData("::", 127, "::", true)]
    [InlineData("::", 127, "::2", false)]
    [InlineData("1::", 127, "1::1", true)]
    [InlineData("1::", 127, "2::1", false)]
    [InlineData("2001:db8::1", 128, "2001:db8::1", true)]
    [InlineData("2001:db8::1", 128, "2001:db8::2", false)]
    [InlineData("2001:db8::1", 128, "2001:db8::", false)]
    [InlineData("fe80::", 10, "febf:ffff::1", true)]
    [InlineData("fe80::", 10, "fec0::1", false)]
    [InlineData("::", 0, "10.0.0.1", false)] // IPv4 is in no IPv6 network...
    [InlineData("::ffff:10.0.0.0", 104, "10.20.30.40", true)] // ...but a mapped network of /96 or more maps IPv4
    [InlineData("::ffff:10.0.0.0", 104, "11.0.0.0", false)]
    [InlineData("::ffff:10.0.0.0", 104, "::ffff:10.9.9.9", true)]
    [InlineData("::ffff:0.0.0.0", 96, "1.2.3.4", true)]
    [InlineData("::ffff:0.0.0.0", 96, "::1.2.3.4", false)]
    public void IsInNetwork_at_IPv6_prefix_boundaries(string network, int prefix, string address, bool expected) =>
        Assert.Equal(expected, A(address).IsInNetwork(A(network), prefix));

    [Fact]
    public void A_prefix_outside_the_family_width_is_clamped()
    {
        Assert.True(A("1.2.3.4").IsInNetwork(A("9.9.9.9"), -5));
        Assert.True(A("1.2.3.4").IsInNetwork(A("1.2.3.4"), 200));
        Assert.False(A("1.2.3.5").IsInNetwork(A("1.2.3.4"), 200));
        Assert.True(A("::5").IsInNetwork(A("::5"), 999));
        Assert.False(A("::5").IsInNetwork(A("::4"), 999));
    }

    [Theory]
    [InlineData("10.1.2.3", 8, "10.0.0.0")]
    [InlineData("10.1.2.3", 0, "0.0.0.0")]
    [InlineData("10.1.2.3", 32, "10.1.2.3")]
    [InlineData("10.1.2.3", 31, "10.1.2.2")]
    [InlineData("2001:db8:1:2:3:4:5:6", 64, "2001:db8:1:2::")]
    [InlineData("2001:db8:1:2:ffff:4:5:6", 65, "2001:db8:1:2:8000::")]
    [InlineData("2001:db8:1:2:3:4:5:7", 127, "2001:db8:1:2:3:4:5:6")]
    [InlineData("2001:db8:1:2:3:4:5:7", 128, "2001:db8:1:2:3:4:5:7")]
    public void Masked_clears_the_host_bits(string address, int prefix, string expected) =>
        Assert.Equal(A(expected), A(address).Masked(prefix));

    [Fact]
    public void Addresses_order_IPv4_first_then_by_number()
    {
        string[] sorted = ["0.0.0.1", "9.255.255.255", "10.0.0.0", "255.255.255.255", "::", "::1", "::ffff:0.0.0.1", "2001:db8::", "ffff::"];

        var shuffled = sorted.Reverse().Select(A).ToList();
        shuffled.Sort();

        Assert.Equal(sorted.Select(A), shuffled);
        Assert.True(A("10.0.0.0") < A("::"));
        Assert.True(A("::2") > A("::1"));
        Assert.True(A("::1") >= A("::1") && A("::1") <= A("::1"));
    }

    [Fact]
    public void Formatting_into_a_short_buffer_fails_without_throwing()
    {
        var address = A("2001:db8:1:2:3:4:5:6");
        Span<char> buffer = stackalloc char[NetAddress.MaxTextLength];

        for (var size = 0; size < 20; size++)
        {
            Assert.False(address.TryFormat(buffer[..size], out _));
        }

        Assert.True(address.TryFormat(buffer[..20], out var written));
        Assert.Equal("2001:db8:1:2:3:4:5:6", buffer[..written].ToString());
        Assert.True(A("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255").TryFormat(buffer, out written));
        Assert.Equal("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", buffer[..written].ToString()); // the longest written
        Assert.True(written <= NetAddress.MaxTextLength);
        Assert.False(A("::ffff:255.255.255.255").TryFormat(buffer[..21], out _));
    }

    [Fact]
    public void Parsing_formatting_and_matching_allocate_nothing()
    {
        string[] texts = ["2001:db8::1", "::ffff:10.0.0.1", "192.168.1.1", "fe80::1:2"];
        var network = A("fe80::");
        var checksum = Run(texts, network);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            checksum += Run(texts, network);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.NotEqual(0, checksum);
    }

    private static int Run(string[] texts, NetAddress network)
    {
        Span<char> buffer = stackalloc char[NetAddress.MaxTextLength];
        var checksum = 0;
        foreach (var text in texts)
        {
            Assert.True(NetAddress.TryParse(text, out var address));
            Assert.True(address.TryFormat(buffer, out var written));
            checksum += written + (address.IsInNetwork(network, 10) ? 1 : 0) + address.Masked(64).GetHashCode()
                + (address.IsLoopback || address.IsIPv4Mapped || address.Unmapped.IsWildcard ? 1 : 0);
        }

        return checksum;
    }
}
