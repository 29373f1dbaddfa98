using PortDashboard.Core.Ports;

namespace PortDashboard.Core.Tests.Ports;

/// <summary>OS port policy read from fixture sysctl files under Fixtures/proc/&lt;case&gt;/sys/net/ipv4.</summary>
public class OsPortPolicyTests
{
    private static string Root(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "proc", name);

    private static string Ipv4Dir(string name) => Path.Combine(Root(name), "sys", "net", "ipv4");

    [Fact]
    public void Reads_the_tab_separated_files_captured_on_this_machine()
    {
        var policy = OsPortPolicyReader.Read(Root("loopback-mix"));

        Assert.Equal((32768, 60999, 1024), (policy.EphemeralFirst, policy.EphemeralLast, policy.UnprivilegedPortStart));
        Assert.Equal(Ipv4Dir("loopback-mix"), policy.Source);
        Assert.Equal(28232, policy.EphemeralRangeSize);
    }

    [Fact]
    public void Reads_a_range_separated_by_several_spaces_and_a_padded_port()
    {
        var policy = OsPortPolicyReader.Read(Root("policy-spaces"));

        Assert.Equal((1024, 65000, 443), (policy.EphemeralFirst, policy.EphemeralLast, policy.UnprivilegedPortStart));
        Assert.Equal(Ipv4Dir("policy-spaces"), policy.Source);
    }

    [Fact]
    public void Missing_files_give_the_documented_Linux_defaults_and_say_so()
    {
        var root = Root("ipv4-only"); // has net/ but no sys/
        var policy = OsPortPolicyReader.Read(root);

        Assert.Equal(
            (OsPortPolicy.LinuxDefault.EphemeralFirst, OsPortPolicy.LinuxDefault.EphemeralLast, OsPortPolicy.LinuxDefault.UnprivilegedPortStart),
            (policy.EphemeralFirst, policy.EphemeralLast, policy.UnprivilegedPortStart));
        Assert.Equal(
            $"{Ipv4Dir("ipv4-only")}/ip_local_port_range is missing, using the default 32768-60999; "
            + $"{Ipv4Dir("ipv4-only")}/ip_unprivileged_port_start is missing, using the default 1024",
            policy.Source);
    }

    [Fact]
    public void One_missing_file_defaults_only_its_own_value()
    {
        var policy = OsPortPolicyReader.Read(Root("policy-partial"));

        Assert.Equal((40000, 50000, 1024), (policy.EphemeralFirst, policy.EphemeralLast, policy.UnprivilegedPortStart));
        Assert.Equal($"{Ipv4Dir("policy-partial")}/ip_unprivileged_port_start is missing, using the default 1024", policy.Source);
    }

    [Theory]
    [InlineData("policy-malformed", "ip_local_port_range is malformed ('32768'; expected two port numbers, first <= last)", "ip_unprivileged_port_start is malformed ('unprivileged'; expected one port number)")]
    [InlineData("policy-reversed", "ip_local_port_range is malformed ('60999\t32768'; expected two port numbers, first <= last)", "ip_unprivileged_port_start is malformed ('70000'; expected one port number)")]
    public void Malformed_files_fall_back_to_the_defaults_and_quote_what_was_found(string fixture, string rangeNote, string unprivilegedNote)
    {
        var policy = OsPortPolicyReader.Read(Root(fixture));

        Assert.Equal((32768, 60999, 1024), (policy.EphemeralFirst, policy.EphemeralLast, policy.UnprivilegedPortStart));
        Assert.Equal(
            $"{Ipv4Dir(fixture)}/{rangeNote}, using the default 32768-60999; {Ipv4Dir(fixture)}/{unprivilegedNote}, using the default 1024",
            policy.Source);
    }

    [Theory]
    [InlineData("32768\t60999\n", true, 32768, 60999)]
    [InlineData("32768 60999", true, 32768, 60999)]
    [InlineData("  1024 \t  65535  \r\n", true, 1024, 65535)]
    [InlineData("40000\t40000\n", true, 40000, 40000)]
    [InlineData("", false, 0, 0)]
    [InlineData("32768", false, 0, 0)]
    [InlineData("60999\t32768", false, 0, 0)]
    [InlineData("32768\t60999\t7", false, 0, 0)]
    [InlineData("-1\t60999", false, 0, 0)]
    [InlineData("32768\t65536", false, 0, 0)]
    [InlineData("0x8000\t60999", false, 0, 0)]
    public void Parses_a_range_only_when_it_is_two_ordered_ports(string text, bool ok, int first, int last)
    {
        Assert.Equal(ok, OsPortPolicyReader.TryParseRange(text, out var f, out var l));
        if (ok)
        {
            Assert.Equal((first, last), (f, l));
        }
    }

    [Theory]
    [InlineData(32767, false)]
    [InlineData(32768, true)]
    [InlineData(60999, true)]
    [InlineData(61000, false)]
    public void The_default_OS_ephemeral_range_is_32768_to_60999(int port, bool ephemeral) =>
        Assert.Equal(ephemeral, OsPortPolicy.LinuxDefault.IsOsEphemeral(port));

    [Theory]
    [InlineData(0, false)] // "any port": binding it needs no privilege
    [InlineData(1, true)]
    [InlineData(1023, true)]
    [InlineData(1024, false)]
    [InlineData(65535, false)]
    public void Ports_below_the_unprivileged_start_need_privilege(int port, bool privileged) =>
        Assert.Equal(privileged, OsPortPolicy.LinuxDefault.IsPrivileged(port));

    [Fact]
    public void An_unprivileged_start_of_zero_makes_every_port_bindable()
    {
        var policy = new OsPortPolicy(32768, 60999, 0);

        Assert.False(policy.IsPrivileged(1));
        Assert.False(policy.IsPrivileged(80));
    }

    [Theory]
    [InlineData(0, PortRange.WellKnown, false, false)]
    [InlineData(1, PortRange.WellKnown, false, true)]
    [InlineData(1023, PortRange.WellKnown, false, true)]
    [InlineData(1024, PortRange.Registered, false, false)]
    [InlineData(40000, PortRange.Registered, true, false)] // IANA-registered, yet handed out as ephemeral by Linux
    [InlineData(49151, PortRange.Registered, true, false)]
    [InlineData(49152, PortRange.Ephemeral, true, false)]
    [InlineData(61000, PortRange.Ephemeral, false, false)] // IANA-ephemeral, yet never handed out by default
    [InlineData(65535, PortRange.Ephemeral, false, false)]
    public void Classification_keeps_IANA_range_and_OS_policy_side_by_side(int port, PortRange range, bool osEphemeral, bool privileged) =>
        Assert.Equal(new PortClassification(range, osEphemeral, privileged), OsPortPolicy.LinuxDefault.Classify(port));

    [Fact]
    public void A_policy_read_from_files_classifies_with_its_own_range()
    {
        var policy = OsPortPolicyReader.Read(Root("policy-spaces")); // 1024-65000, unprivileged from 443

        Assert.Equal(new PortClassification(PortRange.WellKnown, false, true), policy.Classify(80));
        Assert.Equal(new PortClassification(PortRange.WellKnown, false, false), policy.Classify(443));
        Assert.Equal(new PortClassification(PortRange.Registered, true, false), policy.Classify(1024));
        Assert.Equal(new PortClassification(PortRange.Ephemeral, false, false), policy.Classify(65001));
    }
}
