using PortDashboard.Core.Sockets;
using PortDashboard.Model;

namespace PortDashboard.Tests.Model;

public sealed class ListeningRowTests
{
    [Theory]
    [InlineData("0.0.0.0", Exposure.AllInterfaces)]
    [InlineData("::", Exposure.AllInterfaces)]
    [InlineData("127.0.0.1", Exposure.LoopbackOnly)]
    [InlineData("127.0.0.53", Exposure.LoopbackOnly)]
    [InlineData("::1", Exposure.LoopbackOnly)]
    [InlineData("::ffff:127.0.0.1", Exposure.LoopbackOnly)]
    [InlineData("192.168.1.10", Exposure.OneAddress)]
    [InlineData("fe80::1", Exposure.OneAddress)]
    public void Exposure_follows_the_bind_address(string address, Exposure expected)
    {
        Assert.True(NetAddress.TryParse(address, out var parsed));
        Assert.Equal(expected, ListeningRow.ExposureOf(parsed));
    }
}
