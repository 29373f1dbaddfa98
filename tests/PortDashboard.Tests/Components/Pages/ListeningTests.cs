using AngleSharp.Dom;
using Bunit;
using PortDashboard.Components.Pages;
using PortDashboard.Core.Sockets;
using PortDashboard.Tests.Components.Support;
using static PortDashboard.Tests.Components.Support.TestSockets;

namespace PortDashboard.Tests.Components.Pages;

public sealed class ListeningTests : DashboardTestContext
{
    private static readonly ProcessInfo Sshd = Process("sshd", 812);
    private static readonly ProcessInfo Postgres = Process("postgres", 900, "postgres", 105);
    private static readonly ProcessInfo Avahi = Process("avahi-daemon", 450, "avahi", 106);

    private readonly Core.Sockets.Socket _sshAll = Listener("0.0.0.0:22", Sshd);
    private readonly Core.Sockets.Socket _sshAllV6 = Listener("[::]:22", Sshd);
    private readonly Core.Sockets.Socket _postgresLoopback = Listener("127.0.0.1:5432", Postgres);
    private readonly Core.Sockets.Socket _appOneAddress = Listener("10.1.2.3:8080", Process("app", 2000, "www", 33));
    private readonly Core.Sockets.Socket _mdns = Udp("0.0.0.0:5353", "*:*", Avahi);
    private readonly Core.Sockets.Socket _osEphemeralUdp = Udp("[::1]:40000", "*:*", Process("game", 3000, "alice", 1000));
    // Not listeners: an established connection and a connected UDP socket.
    private readonly Core.Sockets.Socket _connection = Tcp("127.0.0.1:51000", "127.0.0.1:5432", SocketState.Established);
    private readonly Core.Sockets.Socket _connectedUdp = Udp("10.0.0.5:40001", "10.0.0.1:53");

    [Fact]
    public void Shows_listeners_and_bound_udp_sockets_with_their_exposure()
    {
        Feed.SetCurrent(Snapshot(Start, _sshAll, _sshAllV6, _postgresLoopback, _appOneAddress, _mdns, _osEphemeralUdp, _connection, _connectedUdp));

        var page = Render<Listening>();

        page.WaitForAssertion(() => Assert.Equal(6, Rows(page).Count), WaitTimeout);
        Assert.Equal(
            [
                ("22", "TCP", "0.0.0.0", "All interfaces"),
                ("22", "TCP", "::", "All interfaces"),
                ("5353", "UDP", "0.0.0.0", "All interfaces"),
                ("5432", "TCP", "127.0.0.1", "Loopback only"),
                ("8080", "TCP", "10.1.2.3", "One address"),
                ("40000", "UDP", "::1", "Loopback only"),
            ],
            Rows(page).Select(r => (Cell(r, "col-port"), Cell(r, "col-proto"), Cell(r, "col-address"), Cell(r, "col-exposure"))));
        Assert.Contains("exposure-all", RowAt(page, 0).QuerySelector(".exposure")!.ClassList);
        Assert.Contains("exposure-loopback", RowAt(page, 3).QuerySelector(".exposure")!.ClassList);
        Assert.Contains("exposure-one", RowAt(page, 4).QuerySelector(".exposure")!.ClassList);
    }

    [Fact]
    public void Shows_range_os_ephemeral_flag_service_process_and_user()
    {
        Feed.SetCurrent(Snapshot(Start, _sshAll, _postgresLoopback, _mdns, _osEphemeralUdp));

        var page = Render<Listening>();

        page.WaitForAssertion(() => Assert.Equal(4, Rows(page).Count), WaitTimeout);
        var ssh = RowAt(page, 0);
        Assert.Equal("Well-known", Cell(ssh, "col-range"));
        Assert.Equal("ssh", Cell(ssh, "col-service"));
        Assert.Equal("sshd (812)", Cell(ssh, "col-process"));
        Assert.Equal("root", Cell(ssh, "col-user"));
        Assert.Equal("", Cell(ssh, "col-os-ephemeral"));
        var mdns = RowAt(page, 1);
        Assert.Equal(("Registered", "mdns", "avahi"), (Cell(mdns, "col-range"), Cell(mdns, "col-service"), Cell(mdns, "col-user")));
        // 40000 is IANA-registered, yet inside Linux's ephemeral range 32768–60999: both facts show.
        var game = RowAt(page, 3);
        Assert.Equal(("40000", "Registered", "yes"), (Cell(game, "col-port"), Cell(game, "col-range"), Cell(game, "col-os-ephemeral")));
    }

    [Fact]
    public async Task Follows_listeners_as_they_open_and_close()
    {
        Feed.SetCurrent(Snapshot(Start, _sshAll, _connection));
        var page = Render<Listening>();
        page.WaitForAssertion(() => Assert.Single(Rows(page)), WaitTimeout);

        Feed.Publish(Snapshot(Start.AddSeconds(1), _postgresLoopback, _connection));
        await Feed.WaitForConsumedAsync(2, WaitTimeout);
        Time.Advance(PortDashboard.Components.LiveFeedComponent.MinRefreshInterval);

        page.WaitForAssertion(() => Assert.Equal("5432", Cell(Assert.Single(Rows(page)), "col-port")), WaitTimeout);
    }

    private static IReadOnlyList<IElement> Rows(IRenderedComponent<Listening> page) =>
        page.FindAll(".listening-grid tbody tr.mud-table-row");

    private static IElement RowAt(IRenderedComponent<Listening> page, int index) => Rows(page)[index];

    private static string Cell(IElement row, string column) =>
        row.QuerySelector($"td.{column}")?.TextContent.Trim() ?? throw new InvalidOperationException($"no {column} cell in {row.OuterHtml}");
}
