using AngleSharp.Dom;
using Bunit;
using PortDashboard.Components.Pages;
using PortDashboard.Core.Sockets;
using PortDashboard.Tests.Components.Support;
using static PortDashboard.Tests.Components.Support.TestSockets;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Tests.Components.Pages;

/// <summary>
/// The Namespace and Container columns behind the column picker, <c>netns=</c> and <c>container=</c> in the page's URL,
/// and the container grouping, on a table holding the same listener in the host's namespace and a container's.
/// </summary>
public sealed class ConnectionsNamespacesTests : DashboardTestContext
{
    private static readonly NetNamespace HostNamespace = new(4026531840, NetNamespace.HostName, isHost: true);
    private static readonly NetNamespace Web = new(4026532281, "pd-web");
    private static readonly NetNamespace Pod = new(4026532999, NetNamespace.InodeName(4026532999), container: "k8s:aabbccddeeff");

    private static readonly ProcessInfo Nginx = Process("nginx", 700) with { Container = "nginx.service" };
    private static readonly ProcessInfo WebApp = Process("node", 9100) with { Container = "docker:3f2a9c1b7d4e" };

    private static Socket In(NetNamespace netNamespace, Socket socket) =>
        new(socket.Protocol, socket.Family, socket.Local, socket.Remote, socket.State, socket.Inode, socket.Uid,
            socket.TransmitQueue, socket.ReceiveQueue, socket.Owners, socket.Tcp, netNamespace);

    private readonly Socket _hostListener = In(HostNamespace, Listener("127.0.0.1:80", Nginx));
    private readonly Socket _webListener = In(Web, Listener("127.0.0.1:80", WebApp));
    private readonly Socket _webConnection = In(Web, Tcp("127.0.0.1:80", "127.0.0.1:50000", SocketState.Established, WebApp));
    private readonly Socket _podTimeWait = In(Pod, Tcp("10.1.0.4:8080", "10.1.0.9:41000", SocketState.TimeWait));

    private Snapshot Table => Snapshot(Start, _hostListener, _webListener, _webConnection, _podTimeWait);

    private static List<IElement> Rows(IRenderedComponent<Connections> page) =>
        [.. page.FindAll(".socket-grid tbody tr.mud-table-row").Where(r => r.QuerySelector(".col-proto") is not null)];

    private static string Cell(IElement row, string column) => row.QuerySelector($"td.col-{column}")!.TextContent.Trim();

    [Fact]
    public void The_namespace_and_container_columns_are_hidden_until_picked_and_then_name_each_rows()
    {
        Feed.SetCurrent(Table);
        var page = Render<Connections>();
        page.WaitForAssertion(() => Assert.Equal(4, Rows(page).Count), WaitTimeout);
        Assert.Empty(page.FindAll("th.col-netns"));
        Assert.Empty(page.FindAll("td.col-container"));

        page.Find(".column-picker [data-column=netns]").Click();
        page.Find(".column-picker [data-column=container]").Click();

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("td.col-netns")), WaitTimeout);
        var byNamespace = Rows(page).Select(r => (Cell(r, "netns"), Cell(r, "container"))).Order().ToList();
        Assert.Equal(
            [("host", "nginx.service"), ($"net:[{Pod.Inode}]", "k8s:aabbccddeeff"), ("pd-web", "docker:3f2a9c1b7d4e"), ("pd-web", "docker:3f2a9c1b7d4e")],
            byNamespace);
        var hostRow = Assert.Single(Rows(page), r => Cell(r, "netns") == "host");
        Assert.Equal($"host (net:[{HostNamespace.Inode}])", hostRow.QuerySelector("td.col-netns span")!.GetAttribute("title"));
    }

    [Theory]
    [InlineData("/?netns=pd-web", 2)]
    [InlineData("/?netns=host", 1)]
    [InlineData("/?container=3f2a9c1b7d4e&state=listen", 1)]
    [InlineData("/?container=k8s:aabbccddeeff", 1)]
    [InlineData("/?netns=4026532281&container=nginx.service", 0)]
    public void Netns_and_container_in_the_url_filter_the_rows_and_show_among_the_other_criteria(string url, int rows)
    {
        Feed.SetCurrent(Table);
        Navigation.NavigateTo(url);
        var page = Render<Connections>();

        page.WaitForAssertion(() => Assert.Equal(rows, Rows(page).Count), WaitTimeout);
        var chip = page.Find(".other-criteria");
        Assert.Contains(url.Contains("netns", StringComparison.Ordinal) ? "netns=" : "container=", chip.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Clearing_the_other_criteria_drops_netns_and_container_from_the_url()
    {
        Feed.SetCurrent(Table);
        Navigation.NavigateTo("/?proto=tcp&netns=pd-web&container=docker:3f2a9c1b7d4e");
        var page = Render<Connections>();
        page.WaitForAssertion(() => Assert.Equal(2, Rows(page).Count), WaitTimeout);

        page.Find(".other-criteria .mud-chip-close-button").Click();

        page.WaitForAssertion(() => Assert.Equal(4, Rows(page).Count), WaitTimeout);
        Assert.Equal("?proto=tcp", new Uri(Navigation.Uri).Query);
    }

    [Fact]
    public void Grouped_by_container_each_container_is_one_group_and_a_socket_without_an_owner_has_its_namespaces()
    {
        Feed.SetCurrent(Table);
        Navigation.NavigateTo("/?group=container");
        var page = Render<Connections>();

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("tr.group-row").Count), WaitTimeout);
        Assert.Equal(["docker:3f2a9c1b7d4e", "k8s:aabbccddeeff", "nginx.service"], page.FindAll("tr.group-row").Select(r => r.GetAttribute("data-group")));
    }
}
