using PortDashboard.Core.Ports;

namespace PortDashboard.Core.Tests.Ports;

public class PortRangeTests
{
    [Theory]
    [InlineData(0, PortRange.WellKnown)]
    [InlineData(1, PortRange.WellKnown)]
    [InlineData(1023, PortRange.WellKnown)]
    [InlineData(1024, PortRange.Registered)]
    [InlineData(40000, PortRange.Registered)]
    [InlineData(49151, PortRange.Registered)]
    [InlineData(49152, PortRange.Ephemeral)]
    [InlineData(65535, PortRange.Ephemeral)]
    public void Classifies_every_boundary_by_IANA_range(int port, PortRange expected) =>
        Assert.Equal(expected, PortRanges.Classify(port));

    [Theory]
    [InlineData(-1)]
    [InlineData(65536)]
    public void Refuses_a_number_that_is_not_a_port(int port)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => PortRanges.Classify(port));
        Assert.Equal("port", error.ParamName);
    }

    [Theory]
    [InlineData(PortRange.WellKnown, "wellknown", "Well-known")]
    [InlineData(PortRange.Registered, "registered", "Registered")]
    [InlineData(PortRange.Ephemeral, "ephemeral", "Ephemeral")]
    public void Has_one_query_word_and_one_display_name_per_range(PortRange range, string query, string display)
    {
        Assert.Equal(query, range.ToQueryValue());
        Assert.Equal(display, range.ToDisplayName());
    }
}
