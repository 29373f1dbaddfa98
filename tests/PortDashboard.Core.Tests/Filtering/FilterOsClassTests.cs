using PortDashboard.Core.Filtering;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Core.Tests.Filtering;

/// <summary><c>range=os-ephemeral,privileged</c>: this machine's port classes in the one filter grammar, beside IANA's.</summary>
public class FilterOsClassTests
{
    private static Socket Listener(int port) =>
        new(TransportProtocol.Tcp, IpVersion.IPv4, new Endpoint(NetAddress.FromIPv4(0x7F000001), port), new Endpoint(NetAddress.AnyV4, 0), SocketState.Listen, 1, 0);

    private static Socket Connection(int localPort, int remotePort) =>
        new(TransportProtocol.Tcp, IpVersion.IPv4, new Endpoint(NetAddress.FromIPv4(0x7F000001), localPort), new Endpoint(NetAddress.FromIPv4(0x7F000001), remotePort), SocketState.Established, 2, 0);

    [Theory]
    [InlineData("range=os-ephemeral", "range=os-ephemeral")]
    [InlineData("range=PRIVILEGED,os-ephemeral", "range=os-ephemeral,privileged")]
    [InlineData("range=privileged,ephemeral&range=wellknown", "range=wellknown,ephemeral,privileged")]
    [InlineData("range=os-ephemeral,os-ephemeral&proto=tcp", "range=os-ephemeral&proto=tcp")]
    public void Os_classes_are_values_of_range_and_round_trip_in_canonical_order(string query, string canonical)
    {
        var filter = Filter.Parse(query);

        Assert.Equal(canonical, filter.ToQueryString());
        Assert.Equal(filter, Filter.Parse(filter.ToQueryString()));
        Assert.False(filter.IsEmpty);
    }

    [Fact]
    public void Os_ephemeral_keeps_a_registered_listener_on_40000_that_ianas_ephemeral_drops()
    {
        var listener = Listener(40000);
        var policy = OsPortPolicy.LinuxDefault;

        Assert.True(Filter.Parse("range=os-ephemeral").Matches(listener, policy: policy));
        Assert.False(Filter.Parse("range=ephemeral").Matches(listener, policy: policy));
        Assert.True(Filter.Parse("range=registered").Matches(listener, policy: policy));
        Assert.False(Filter.Parse("range=privileged").Matches(listener, policy: policy));
        // Alternatives of one criterion: either view lets it through.
        Assert.True(Filter.Parse("range=ephemeral,os-ephemeral").Matches(listener, policy: policy));
    }

    [Fact]
    public void The_os_classes_follow_the_policy_given_not_fixed_numbers()
    {
        var narrow = new OsPortPolicy(50000, 50100, 80);

        Assert.False(Filter.Parse("range=os-ephemeral").Matches(Listener(40000), policy: narrow));
        Assert.True(Filter.Parse("range=os-ephemeral").Matches(Listener(50050), policy: narrow));
        Assert.True(Filter.Parse("range=privileged").Matches(Listener(79), policy: narrow));
        Assert.False(Filter.Parse("range=privileged").Matches(Listener(80), policy: narrow));
        // Without a policy, Linux's defaults.
        Assert.True(Filter.Parse("range=os-ephemeral").Matches(Listener(40000)));
        Assert.True(Filter.Parse("range=privileged").Matches(Listener(1023)));
    }

    [Fact]
    public void Side_picks_the_endpoint_the_os_class_is_judged_on()
    {
        // A browser's source port 40000 to a server's port 80.
        var browser = Connection(40000, 80);

        Assert.True(Filter.Parse("range=os-ephemeral&side=local").Matches(browser));
        Assert.False(Filter.Parse("range=os-ephemeral&side=remote").Matches(browser));
        Assert.True(Filter.Parse("range=privileged&side=remote").Matches(browser));
        Assert.True(Filter.Parse("range=privileged").Matches(browser));
    }

    [Fact]
    public void A_bad_range_value_names_both_views_in_its_message()
    {
        var error = Assert.Throws<FilterException>(() => Filter.Parse("range=os-ephem"));

        Assert.Equal("range", error.Parameter);
        Assert.Equal("unknown range 'os-ephem'; expected wellknown, registered, ephemeral (IANA's), os-ephemeral or privileged (this machine's)", error.Message);
    }

    [Fact]
    public void Toggling_an_os_class_adds_and_removes_it()
    {
        var filter = Filter.Empty.Toggle(OsPortClass.Ephemeral).Toggle(PortRange.Registered);

        Assert.Equal("range=registered,os-ephemeral", filter.ToQueryString());
        Assert.True(filter.Toggle(OsPortClass.Ephemeral).Toggle(PortRange.Registered).IsEmpty);
    }
}
