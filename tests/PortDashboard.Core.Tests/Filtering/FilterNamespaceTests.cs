using PortDashboard.Core.Filtering;
using PortDashboard.Core.Sockets;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Core.Tests.Filtering;

/// <summary>What <c>netns=</c> and <c>container=</c> let through.</summary>
public class FilterNamespaceTests
{
    private static readonly NetNamespace Host = new(4026531840, "host", isHost: true);
    private static readonly NetNamespace Web = new(4026532281, "pd-web");
    private static readonly NetNamespace Pod = new(4026532999, NetNamespace.InodeName(4026532999), container: "k8s:aabbccddeeff");

    private static Socket S(NetNamespace netNamespace, int port, string? container = null, long inode = 1) =>
        new(TransportProtocol.Tcp, IpVersion.IPv4, new Endpoint(NetAddress.FromIPv4(0x7F000001), port), new Endpoint(NetAddress.AnyV4, 0),
            SocketState.Listen, inode, 0, owners: container is null ? [] : [new ProcessInfo(10, 1, "app", 0, "root") { Container = container }],
            netNamespace: netNamespace);

    private static readonly Socket OnHost = S(Host, 80, "nginx.service");
    private static readonly Socket InWeb = S(Web, 80, "docker:3f2a9c1b7d4e", inode: 2);
    private static readonly Socket InPodWithoutOwner = S(Pod, 8080, inode: 3);
    private static readonly Socket Untagged = S(NetNamespace.Host, 22, inode: 4);

    private static readonly Socket[] Table = [OnHost, InWeb, InPodWithoutOwner, Untagged];

    private static Socket[] Matching(string query)
    {
        var filter = Filter.Parse(query);
        return [.. Table.Where(s => filter.Matches(s))];
    }

    [Theory]
    [InlineData("netns=host")]
    [InlineData("netns=HOST")]
    public void Host_names_the_readers_own_namespace_tagged_or_not(string query) => Assert.Equal([OnHost, Untagged], Matching(query));

    [Theory]
    [InlineData("netns=pd-web")]
    [InlineData("netns=4026532281")]
    public void A_namespace_is_named_by_its_name_or_its_inode(string query) => Assert.Equal([InWeb], Matching(query));

    [Fact]
    public void A_namespace_without_a_name_is_named_as_the_kernel_writes_it() =>
        Assert.Equal([InPodWithoutOwner], Matching("netns=net:%5B4026532999%5D"));

    [Fact]
    public void Several_namespaces_are_alternatives() => Assert.Equal([OnHost, InWeb, Untagged], Matching("netns=pd-web,host"));

    [Theory]
    [InlineData("container=docker:3f2a9c1b7d4e")]
    [InlineData("container=3F2A9C1B7D4E")]
    public void A_container_is_named_whole_or_by_its_id(string query) => Assert.Equal([InWeb], Matching(query));

    [Fact]
    public void A_socket_without_an_owner_has_its_namespaces_container() =>
        Assert.Equal([InPodWithoutOwner], Matching("container=k8s:aabbccddeeff"));

    [Fact]
    public void A_unit_is_a_container_and_no_container_matches_none() =>
        Assert.Equal([OnHost], Matching("container=nginx.service,nothing"));

    [Fact]
    public void Netns_and_container_must_both_hold_and_the_text_finds_them_too()
    {
        Assert.Empty(Matching("netns=host&container=docker:3f2a9c1b7d4e"));
        Assert.Equal([InWeb], Matching("q=3f2a9c"));
        Assert.Equal([InWeb], Matching("q=pd-web"));
    }

    [Fact]
    public void Keys_with_the_same_endpoints_in_two_namespaces_differ_and_the_hosts_keep_their_old_key()
    {
        var hostTwin = S(Host, 80, inode: 0);
        var webTwin = S(Web, 80, inode: 0);

        Assert.NotEqual(hostTwin.Key, webTwin.Key);
        Assert.Equal(0, hostTwin.Key.NetNs);
        Assert.Equal(Web.Inode, webTwin.Key.NetNs);
        Assert.Equal(hostTwin.Key, S(NetNamespace.Host, 80, inode: 0).Key);
    }
}
