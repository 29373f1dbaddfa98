using System.Globalization;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace PortDashboard.EndToEnd.Tests;

/// <summary>The Connections page's group-by view in chromium, on real loopback sockets: counts by state, live, expandable.</summary>
public sealed class GroupingInBrowserTests(PublishedApp app, ITestOutputHelper output)
{
    private static readonly float FirstLoad = 15_000; // ms: circuit start and first snapshot on a busy machine
    private static readonly float ThreePolls = (float)(3 * PublishedApp.PollInterval.TotalMilliseconds);

    [Fact]
    public Task Grouped_by_local_port_a_listener_counts_its_connections_as_they_open_and_expands_to_them() => app.WithPageAsync(output, async page =>
    {
        using var listener = TestListener.OpenIn(20_000, 29_999);
        var port = listener.Port.ToString(CultureInfo.InvariantCulture);

        await page.GotoAsync($"/?port={port}&group=localport");

        var group = page.Locator($"tr.group-row[data-group='{port}']");
        await Expect(group.Locator("td.listen")).ToHaveTextAsync("1", new() { Timeout = FirstLoad });
        await Expect(group.Locator("td.total")).ToHaveTextAsync("1");
        await Expect(page.Locator(".socket-grid")).ToHaveCountAsync(0);

        using var client = await listener.ConnectAsync(); // the accepted end has the listener's local port
        await Expect(group.Locator("td.established")).ToHaveTextAsync("1", new() { Timeout = ThreePolls });
        await Expect(group.Locator("td.total")).ToHaveTextAsync("2");

        await group.Locator("button.expand").ClickAsync();
        var members = page.Locator($"tr.group-rows[data-group-rows='{port}'] tr.member-row");
        await Expect(members).ToHaveCountAsync(2, new() { Timeout = ThreePolls });
        await Expect(members.Filter(new() { HasText = "ESTABLISHED" })).ToHaveCountAsync(1);
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"group=localport"));
    });
}
