using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace PortDashboard.EndToEnd.Tests;

/// <summary>
/// The published app in Debian's chromium, against real sockets the tests open. Every wait is a condition with a
/// deadline (Playwright's expectations); the deadline for live updates is three poll intervals.
/// </summary>
public sealed partial class DashboardInBrowserTests(PublishedApp app, ITestOutputHelper output)
{
    private static readonly float FirstLoad = 15_000; // ms: circuit start and first snapshot on a busy machine
    private static readonly float ThreePolls = (float)(3 * PublishedApp.PollInterval.TotalMilliseconds);

    private static string Screenshots => PublishedApp.Screenshots;

    [Fact]
    public Task The_production_build_serves_mudblazor_assets_and_the_page() => Reported(async () =>
    {
        using var css = await app.Http.GetAsync(new Uri("_content/MudBlazor/MudBlazor.min.css", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, css.StatusCode);
        Assert.Equal("text/css", css.Content.Headers.ContentType?.MediaType);
        using var js = await app.Http.GetAsync(new Uri("_content/MudBlazor/MudBlazor.min.js", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, js.StatusCode);
        using var appCss = await app.Http.GetAsync(new Uri("app.css", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, appCss.StatusCode);

        using var page = await app.Http.GetAsync(new Uri("/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("_content/MudBlazor/MudBlazor.min.css", html, StringComparison.Ordinal);
        Assert.Contains("_framework/blazor.web.js", html, StringComparison.Ordinal);
        Assert.DoesNotContain("bootstrap", html, StringComparison.OrdinalIgnoreCase);
        // Offline machines: no stylesheet, script or font from anywhere but the app itself.
        Assert.DoesNotMatch(ExternalAsset(), html);
    });

    [Fact]
    public Task Shows_each_listener_with_its_range_and_a_new_connection_without_a_reload() => WithPage(async page =>
    {
        using var wellKnown = TestListener.OpenIn(900, 1000);
        using var registered = TestListener.OpenIn(20_000, 29_999);
        using var ephemeral = TestListener.OpenIn(61_000, 65_535);

        await page.GotoAsync($"/?port={wellKnown.Port},{registered.Port},{ephemeral.Port}");

        await Expect(LocalPortRow(page, wellKnown.Port).Locator("td.col-local-port")).ToContainTextAsync("Well-known", new() { Timeout = FirstLoad });
        await Expect(LocalPortRow(page, registered.Port).Locator("td.col-local-port")).ToContainTextAsync("Registered");
        await Expect(LocalPortRow(page, ephemeral.Port).Locator("td.col-local-port")).ToContainTextAsync("Ephemeral");
        await Expect(LocalPortRow(page, wellKnown.Port).Locator("td.col-state")).ToHaveTextAsync("LISTEN");

        // A marker in the page's JS state: it survives only if the page is not reloaded.
        await page.EvaluateAsync("() => window.__portDashboardMarker = 42");
        using var client = await registered.ConnectAsync();
        var clientPort = ((IPEndPoint)client.Client.LocalEndPoint!).Port;

        var row = LocalPortRow(page, clientPort);
        await Expect(row).ToBeVisibleAsync(new() { Timeout = ThreePolls });
        await Expect(row.Locator("td.col-remote-port")).ToContainTextAsync(registered.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(row.Locator("td.col-state")).ToHaveTextAsync("ESTABLISHED");
        Assert.Equal(42, await page.EvaluateAsync<int>("() => window.__portDashboardMarker"));
    });

    [Fact]
    public Task The_ephemeral_chip_filters_rows_into_the_url_and_a_reload_shows_the_same_view() => WithPage(async page =>
    {
        using var ephemeral = TestListener.OpenIn(61_000, 65_535);
        using var wellKnown = TestListener.OpenIn(900, 1000);
        // Narrowed to this test's listeners, so their rows are on screen however big the machine's table is.
        await page.GotoAsync($"/?port={wellKnown.Port},{ephemeral.Port}");
        await Expect(LocalPortRow(page, wellKnown.Port)).ToBeVisibleAsync(new() { Timeout = FirstLoad });

        await page.Locator(".range-filter [data-range=ephemeral]").ClickAsync();

        await Expect(page).ToHaveURLAsync(RangeEphemeralUrl());
        await ExpectOnlyEphemeralRowsAsync(page);

        await page.ReloadAsync();

        await Expect(page).ToHaveURLAsync(RangeEphemeralUrl());
        await Expect(page.Locator(".range-filter [data-range=ephemeral]")).ToHaveClassAsync(new Regex("mud-chip-selected"), new() { Timeout = FirstLoad });
        await Expect(Rows(page).First).ToBeVisibleAsync(new() { Timeout = FirstLoad });
        await ExpectOnlyEphemeralRowsAsync(page);

        // Back and forward move between the two views without reloading the page.
        await page.EvaluateAsync("() => window.__portDashboardMarker = 7");
        await page.GoBackAsync();
        await Expect(page).Not.ToHaveURLAsync(RangeEphemeralUrl());
        await Expect(LocalPortRow(page, wellKnown.Port)).ToBeVisibleAsync(new() { Timeout = ThreePolls * 2 });
        await Expect(page.Locator(".range-filter .mud-chip-selected")).ToHaveCountAsync(0);
        await page.GoForwardAsync();
        await Expect(page).ToHaveURLAsync(RangeEphemeralUrl());
        await ExpectOnlyEphemeralRowsAsync(page);
        Assert.Equal(7, await page.EvaluateAsync<int>("() => window.__portDashboardMarker"));
    });

    [Fact]
    public Task Screenshots_of_the_connections_and_listening_pages() => WithPage(async page =>
    {
        using var ssh = TestListener.OpenIn(900, 1000);
        using var registered = TestListener.OpenIn(20_000, 29_999);
        using var ephemeral = TestListener.OpenIn(61_000, 65_535);
        var clients = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                clients.Add(await registered.ConnectAsync());
            }

            // Narrowed to this test's ports: on a busy machine (other tests' sockets, TIME_WAIT left by a benchmark) the
            // youngest-first order below would otherwise put strangers' sockets where the picture should show these.
            await page.GotoAsync($"/?port={ssh.Port},{registered.Port},{ephemeral.Port}");
            await Expect(Rows(page).First).ToBeVisibleAsync(new() { Timeout = FirstLoad });
            // Some churn, and a few points of history, so the chart has lines to show.
            clients[0].Dispose();
            clients[1].Dispose();
            await Expect(page.Locator(".churn-chart")).ToHaveAttributeAsync("data-points", new Regex("^([4-9]|[1-9][0-9]+)$"), new() { Timeout = 30_000 });
            // Youngest first, so the picture shows the connections opened above and, in green, a new one.
            await page.Locator("th.col-age .column-header span").First.ClickAsync();
            await Expect(LocalPortRow(page, registered.Port).First).ToBeVisibleAsync();
            clients.Add(await ephemeral.ConnectAsync());
            var fresh = LocalPortRow(page, ((IPEndPoint)clients[^1].Client.LocalEndPoint!).Port);
            await Expect(fresh).ToHaveClassAsync(new Regex("row-new"), new() { Timeout = ThreePolls });

            Directory.CreateDirectory(Screenshots);
            await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "connections.png") });

            // The theme toggle switches to the dark palette.
            var lightBackground = await BodyBackgroundAsync(page);
            await page.Locator(".theme-toggle").ClickAsync();
            await Expect(page.Locator(".theme-toggle")).ToHaveAttributeAsync("aria-label", "Light theme");
            Assert.NotEqual(lightBackground, await BodyBackgroundAsync(page));
            await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "connections-dark.png") });
            await page.Locator(".theme-toggle").ClickAsync();

            await page.Locator("nav.app-nav a", new() { HasText = "Listening" }).ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/listening$"));
            var listener = page.Locator(".listening-grid tbody tr.mud-table-row")
                .Filter(new() { Has = page.Locator("td.col-port", new() { HasTextRegex = new Regex($"^{ssh.Port}$") }) });
            await Expect(listener.Locator("td.col-exposure")).ToHaveTextAsync("Loopback only", new() { Timeout = FirstLoad });
            await Expect(listener.Locator("td.col-range")).ToHaveTextAsync("Well-known");
            await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "listening.png") });
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }

        Assert.True(new FileInfo(Path.Combine(Screenshots, "connections.png")).Length > 10_000);
        Assert.True(new FileInfo(Path.Combine(Screenshots, "listening.png")).Length > 10_000);
    });

    private static Task<string> BodyBackgroundAsync(IPage page) =>
        page.EvaluateAsync<string>("() => getComputedStyle(document.body).backgroundColor");

    private static ILocator Rows(IPage page) => page.Locator(".socket-grid tbody tr.mud-table-row");

    private static ILocator LocalPortRow(IPage page, int port) =>
        Rows(page).Filter(new() { Has = page.Locator("td.col-local-port .port", new() { HasTextRegex = new Regex($"^{port}$") }) });

    /// <summary>Every row shown has an IANA-ephemeral endpoint (a range chip in one of its port cells).</summary>
    private static async Task ExpectOnlyEphemeralRowsAsync(IPage page)
    {
        await Expect(Rows(page).First).ToBeVisibleAsync();
        await Expect(Rows(page).Filter(new() { HasNot = page.Locator(".range-ephemeral") })).ToHaveCountAsync(0, new() { Timeout = ThreePolls * 2 });
    }

    private Task WithPage(Func<IPage, Task> test) => app.WithPageAsync(output, test);

    private Task Reported(Func<Task> test) => app.ReportedAsync(output, test);

    [GeneratedRegex(@"<(link|script)[^>]+(href|src)=""(https?:)?//", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalAsset();

    [GeneratedRegex(@"[?&]range=ephemeral(&|$)")]
    private static partial Regex RangeEphemeralUrl();
}
