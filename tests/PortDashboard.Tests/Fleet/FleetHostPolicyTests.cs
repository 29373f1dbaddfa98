using System.Collections.Immutable;
using PortDashboard.Api;
using PortDashboard.Core.Filtering;
using PortDashboard.Core.Ports;
using PortDashboard.Fleet;
using PortDashboard.Tests.Support;
using Xunit;

namespace PortDashboard.Tests.Fleet;

/// <summary>
/// A remote host's sockets are judged by that host's kernel: <c>range=os-ephemeral</c> and <c>range=privileged</c>
/// use the port policy its agent reported, not the dashboard node's.
/// </summary>
public sealed class FleetHostPolicyTests
{
    private static readonly ServiceNameRegistry Services = ServiceNameRegistry.LoadDefault();

    // A host whose ephemeral range is 40000–45000 and whose unprivileged ports start at 80.
    private static readonly PortPolicyDto NarrowPolicy = new(40000, 45000, 80, "/proc/sys/net/ipv4 of web-1");

    private static FleetHost Host(PortPolicyDto? policy)
    {
        var mapper = new WireMapper(Services, showCommandLine: false);
        var wirePolicy = policy is null ? OsPortPolicy.LinuxDefault : new OsPortPolicy(policy.EphemeralFirst, policy.EphemeralLast, policy.UnprivilegedPortStart);
        var sockets = new[]
        {
            TestSockets.Connection(41000, 5432, inode: 1), // in the narrow range and in Linux's default one
            TestSockets.Connection(50000, 5432, inode: 2), // in Linux's default range only
            TestSockets.Listener(80, inode: 3),            // privileged below 1024, not below 80
            TestSockets.Listener(79, inode: 4),            // privileged under both
        }.Select(s => FleetSocket.From(mapper.Socket(s, wirePolicy)));
        return FleetHost.New("web-1") with
        {
            Metadata = policy is null ? null : new SnapshotMetadataDto(DateTimeOffset.UnixEpoch, 1, "web-1", "netlink",
                new AttributionDto("complete", 1, 0, null), policy, 0),
            Sockets = sockets.ToImmutableDictionary(s => s.Dto.Id),
        };
    }

    private static int[] LocalPorts(FleetHost host, string query) =>
        [.. host.Matching(Filter.Parse(query), Services).Select(s => s.Dto.Local.Port).Order()];

    [Fact]
    public void The_hosts_own_ephemeral_range_decides_os_ephemeral()
    {
        var host = Host(NarrowPolicy);
        Assert.Equal((40000, 45000, 80), (host.PortPolicy.EphemeralFirst, host.PortPolicy.EphemeralLast, host.PortPolicy.UnprivilegedPortStart));
        Assert.Equal("/proc/sys/net/ipv4 of web-1", host.PortPolicy.Source);
        Assert.Equal([41000], LocalPorts(host, "range=os-ephemeral&side=local"));
    }

    [Fact]
    public void The_hosts_own_unprivileged_start_decides_privileged()
    {
        Assert.Equal([79], LocalPorts(Host(NarrowPolicy), "range=privileged&side=local"));
    }

    [Fact]
    public void Before_its_first_snapshot_a_host_is_judged_by_Linuxs_defaults()
    {
        var host = Host(policy: null);
        Assert.Equal(OsPortPolicy.LinuxDefault, host.PortPolicy);
        Assert.Equal([41000, 50000], LocalPorts(host, "range=os-ephemeral&side=local"));
        Assert.Equal([79, 80], LocalPorts(host, "range=privileged&side=local"));
    }

    [Fact]
    public void Another_hosts_name_matches_none_of_its_sockets()
    {
        Assert.Empty(LocalPorts(Host(NarrowPolicy), "host=web-2&range=os-ephemeral"));
        Assert.Equal([41000], LocalPorts(Host(NarrowPolicy), "host=WEB-1&range=os-ephemeral&side=local"));
    }
}
