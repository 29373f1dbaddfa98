using System.Net.Sockets;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace PortDashboard.EndToEnd.Tests.Insight;

/// <summary>
/// /ephemeral and /history of the published app in Debian's chromium, against connections the test opens and closes on
/// loopback; the screenshots shown in the README are taken here.
/// </summary>
public sealed partial class InsightInBrowserTests(PublishedApp app, ITestOutputHelper output)
{
    private const float FirstLoad = 15_000; // ms: circuit start and first snapshot on a busy machine
    private static readonly float TwentyPolls = (float)(20 * PublishedApp.PollInterval.TotalMilliseconds); // ten seconds: the machine is shared

    private static string Screenshots => PublishedApp.Screenshots;

    [Fact]
    public Task The_ephemeral_page_shows_the_destinations_gauge_the_heatmap_and_the_sockets_seen_closing() => WithPage(async page =>
    {
        using var server = TestListener.OpenIn(20_000, 29_999);
        var open = new List<TcpClient>();
        try
        {
            await page.GotoAsync("/ephemeral");
            await Expect(page.Locator(".cards")).ToBeVisibleAsync(new() { Timeout = FirstLoad });

            // Connections to one destination: most closed by the client (their ports stay in TIME_WAIT), a few kept open.
            for (var i = 0; i < 400; i++)
            {
                var client = await server.ConnectAsync();
                if (i % 50 == 0)
                {
                    open.Add(client);
                }
                else
                {
                    client.Dispose();
                }
            }

            // Its row in the table of the top destinations (the gauges show the top six: on a shared machine another
            // test's destination may hold more ports than this one).
            var destination = $"127.0.0.1:{server.Port}";
            var row = page.Locator($".destination-table tbody tr[data-destination='{destination}']");
            await Expect(row.Locator(".ports")).ToHaveTextAsync(new Regex(@"^\d{3}$"), new() { Timeout = TwentyPolls });
            await Expect(row.Locator(".share")).ToHaveTextAsync(new Regex(@"^\d+(\.\d)? %$"));
            await Expect(page.Locator(".destination-gauge").First.Locator(".detail").First).ToContainTextAsync(new Regex(@"^[\d,]+ / [\d,]+ ports"));
            await Expect(page.Locator(".heatmap rect.cell").First).ToBeAttachedAsync(new() { Timeout = TwentyPolls });
            await Expect(page.Locator(".closed-table tbody tr").First).ToBeVisibleAsync(new() { Timeout = TwentyPolls }); // root: captured
            Assert.Equal(0, await page.Locator(".capture-notice").CountAsync());

            await ScreenshotAsync(page, "ephemeral.png");
            Assert.True(new FileInfo(Path.Combine(Screenshots, "ephemeral.png")).Length > 10_000);
        }
        finally
        {
            open.ForEach(c => c.Dispose());
        }
    });

    [Fact]
    public Task The_history_page_scrubs_back_to_a_moment_and_shows_what_was_open_then() => WithPage(async page =>
    {
        using var server = TestListener.OpenIn(20_000, 29_999);
        var clients = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 6; i++)
            {
                clients.Add(await server.ConnectAsync());
            }

            var closing = clients.Take(3).Select(c => ((System.Net.IPEndPoint)c.Client.LocalEndPoint!).Port).ToList();
            await page.GotoAsync($"/history?port={server.Port}");
            foreach (var port in closing)
            {
                await Expect(Established(page, port)).ToHaveCountAsync(1, new() { Timeout = FirstLoad });
            }

            // A moment when all six were open (a whole second, as the address bar holds it), then close three after it.
            var at = NextWholeSecond(DateTimeOffset.UtcNow);
            while (DateTimeOffset.UtcNow < at + PublishedApp.PollInterval)
            {
                await Task.Delay(50); // until the moment has passed, with a poll to spare
            }

            clients.Take(3).ToList().ForEach(c => c.Dispose());

            // Now they are gone (the page shows the moment it was opened at: load it again until a poll has seen them go).
            var deadline = DateTime.UtcNow.AddMilliseconds(TwentyPolls);
            while (await Established(page, closing[0]).CountAsync() > 0 && DateTime.UtcNow < deadline)
            {
                await Expect(page.Locator(".history-page[data-interactive='true']")).ToBeAttachedAsync(new() { Timeout = FirstLoad });
                await page.Locator(".jump-now").ClickAsync();
                await page.WaitForTimeoutAsync((float)PublishedApp.PollInterval.TotalMilliseconds);
            }

            await Expect(Established(page, closing[0])).ToHaveCountAsync(0);
            await Expect(Established(page, ((System.Net.IPEndPoint)clients[5].Client.LocalEndPoint!).Port)).ToHaveCountAsync(1);

            // Back to the moment: the address bar holds it, and the three are there again, with when they closed.
            var atText = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
            await page.GotoAsync($"/history?at={atText}&port={server.Port}");
            await Expect(page.Locator(".at")).ToHaveAttributeAsync("data-at", atText, new() { Timeout = FirstLoad });
            try
            {
                foreach (var port in closing)
                {
                    await Expect(Established(page, port).Locator(".col-then")).ToHaveTextAsync(new Regex("^closed "), new() { Timeout = FirstLoad });
                }
            }
            catch (PlaywrightException)
            {
                output.WriteLine($"at {atText}, closing {string.Join(",", closing)}: {await page.Locator(".alive-grid").InnerTextAsync()}");
                output.WriteLine(await (await app.Http.GetAsync(new Uri($"api/history?from=-5m&port={server.Port}", UriKind.Relative))).Content.ReadAsStringAsync());
                throw;
            }

            await Expect(page.Locator(".per-minute")).ToHaveAttributeAsync("data-opened", new Regex("^[1-9]"));
            await Expect(page.Locator(".per-minute rect.bar").First).ToBeAttachedAsync(new() { Timeout = FirstLoad });
            await ScreenshotAsync(page, "history.png");
            Assert.True(new FileInfo(Path.Combine(Screenshots, "history.png")).Length > 10_000);

            // The jump buttons move the moment back and put it in the address bar (once the circuit is up).
            await Expect(page.Locator(".history-page[data-interactive='true']")).ToBeAttachedAsync(new() { Timeout = FirstLoad });
            await page.Locator(".jump[data-minutes='1']").ClickAsync();
            var minuteBefore = at.AddMinutes(-1).UtcDateTime.ToString("yyyy-MM-dd'T'HH'(:|%3A)'mm'(:|%3A)'ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
            await Expect(page).ToHaveURLAsync(new Regex($"[?&]at={minuteBefore}"), new() { Timeout = FirstLoad });
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    });

    /// <summary>
    /// Saves a screenshot for the README. Toasts about listeners other processes open on this shared machine would
    /// cover part of the page: they are hidden from the picture (a style only; the page keeps them).
    /// </summary>
    private static async Task ScreenshotAsync(IPage page, string name)
    {
        await page.AddStyleTagAsync(new() { Content = ".mud-snackbar-location-top-right { visibility: hidden; }" });
        Directory.CreateDirectory(Screenshots);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, name) });
    }

    /// <summary>The row of the client socket on <paramref name="port"/> while it was established.</summary>
    private static ILocator Established(IPage page, int port) =>
        page.Locator(".alive-grid tbody tr.mud-table-row")
            .Filter(new() { Has = page.Locator("td.col-local", new() { HasTextRegex = new Regex($"^127\\.0\\.0\\.1:{port}$") }) })
            .Filter(new() { Has = page.Locator("td.col-state", new() { HasTextRegex = new Regex("^ESTABLISHED") }) });

    private static DateTimeOffset NextWholeSecond(DateTimeOffset at) =>
        new(at.UtcTicks - (at.UtcTicks % TimeSpan.TicksPerSecond) + TimeSpan.TicksPerSecond, TimeSpan.Zero);

    private Task WithPage(Func<IPage, Task> test) => app.WithPageAsync(output, test);

    private Task Reported(Func<Task> test) => app.ReportedAsync(output, test);
}
