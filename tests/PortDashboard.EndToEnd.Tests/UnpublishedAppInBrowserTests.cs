using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace PortDashboard.EndToEnd.Tests;

/// <summary>
/// Issue 11: started from the build output in Production (not published), the page is styled and live, as it is
/// when published. Before the fix, <c>_framework/blazor.web.js</c> and <c>_content/MudBlazor/*</c> answered 500.
/// </summary>
public sealed class UnpublishedAppInBrowserTests(UnpublishedApp app, ITestOutputHelper output) : IClassFixture<UnpublishedApp>
{
    private static readonly float FirstLoad = 15_000; // ms: circuit start and first snapshot on a busy machine
    private static readonly float ThreePolls = (float)(3 * PublishedApp.PollInterval.TotalMilliseconds);

    [Fact]
    public Task The_unpublished_production_run_serves_the_framework_and_mudblazor_files() => app.ReportedAsync(output, async () =>
    {
        foreach (var (path, type) in new[]
        {
            ("_framework/blazor.web.js", "text/javascript"),
            ("_content/MudBlazor/MudBlazor.min.css", "text/css"),
            ("_content/MudBlazor/MudBlazor.min.js", "text/javascript"),
            ("app.css", "text/css"),
            ("PortDashboard.styles.css", "text/css"),
        })
        {
            using var response = await app.Http.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path} answered {(int)response.StatusCode}");
            Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
        }
    });

    [Fact]
    public Task The_unpublished_production_run_shows_a_styled_page_that_updates_live() => app.WithPageAsync(output, async page =>
    {
        using var listener = TestListener.OpenIn(20_000, 29_999);
        var failedAssets = new List<string>();
        page.Response += (_, response) =>
        {
            if (response.Status >= 400)
            {
                failedAssets.Add($"{response.Status} {response.Url}");
            }
        };

        await page.GotoAsync($"/?port={listener.Port}");

        var rows = page.Locator(".socket-grid tbody tr.mud-table-row");
        await Expect(rows.Filter(new() { HasText = "LISTEN" })).ToHaveCountAsync(1, new() { Timeout = FirstLoad });

        // Styled: MudBlazor's stylesheet is loaded and applied (a chip is a rounded pill), the app's scoped styles
        // hide the error bar.
        Assert.True(
            await page.EvaluateAsync<bool>("() => [...document.styleSheets].some(s => (s.href || '').includes('MudBlazor.min.css') && s.cssRules.length > 100)"),
            "MudBlazor.min.css is not among the page's loaded stylesheets");
        var radius = await page.Locator(".range-filter .mud-chip").First.EvaluateAsync<string>("e => getComputedStyle(e).borderTopLeftRadius");
        Assert.NotEqual("0px", radius);
        await Expect(page.Locator("#blazor-error-ui")).ToBeHiddenAsync();

        // Live: a connection opened now appears without a reload (the circuit is up).
        await page.EvaluateAsync("() => window.__portDashboardMarker = 11");
        using var client = await listener.ConnectAsync();
        await Expect(rows.Filter(new() { HasText = "ESTABLISHED" })).ToHaveCountAsync(2, new() { Timeout = ThreePolls * 2 });
        Assert.Equal(11, await page.EvaluateAsync<int>("() => window.__portDashboardMarker"));
        Assert.Empty(failedAssets);
        Assert.DoesNotMatch(new Regex("An unhandled error", RegexOptions.IgnoreCase), await page.Locator("body").InnerTextAsync());
    });
}
