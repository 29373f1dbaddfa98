using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using PortDashboard.Core.Ports;
using static Microsoft.Playwright.Assertions;

namespace PortDashboard.EndToEnd.Tests;

/// <summary>
/// Issue 11 in a real browser against real sockets: IANA's class and this machine's OS marks side by side, the OS
/// filter chips, and ages counted from when the service first saw a socket.
/// </summary>
public sealed class OsPortPolicyInBrowserTests(PublishedApp app, ITestOutputHelper output)
{
    private static readonly float FirstLoad = 15_000; // ms: circuit start and first snapshot on a busy machine
    private static readonly float ThreePolls = (float)(3 * PublishedApp.PollInterval.TotalMilliseconds);

    /// <summary>This machine's policy, read as the app reads it.</summary>
    private static readonly OsPortPolicy Policy = OsPortPolicyReader.Read("/proc");

    [Fact]
    public Task A_listener_near_40000_shows_both_marks_is_kept_by_os_ephemeral_and_dropped_by_ianas_ephemeral() => app.WithPageAsync(output, async page =>
    {
        // IANA registered yet OS ephemeral: 40000 on a default Linux (32768–60999).
        var first = Math.Max(40_000, Policy.EphemeralFirst);
        var last = Math.Min(40_999, Math.Min(Policy.EphemeralLast, PortRanges.LastRegistered));
        Assert.True(first <= last, $"this machine's OS ephemeral range ({Policy}) has no port in 40000–40999");
        using var registered = TestListener.OpenIn(first, last);
        using var privileged = TestListener.OpenIn(900, Math.Min(1000, Policy.UnprivilegedPortStart - 1));
        // The browser-to-server example: a client's kernel-chosen source port towards a privileged server port.
        using var client = await privileged.ConnectAsync();
        var clientPort = ((IPEndPoint)client.Client.LocalEndPoint!).Port;

        await page.GotoAsync($"/?port={registered.Port},{privileged.Port}");

        var cell = LocalPortCell(page, registered.Port);
        await Expect(cell.Locator(".range-chip")).ToHaveTextAsync("Registered", new() { Timeout = FirstLoad });
        await Expect(cell.Locator(".os-mark.os-ephemeral")).ToHaveTextAsync("OS eph");
        await Expect(cell.Locator(".os-mark.os-ephemeral")).ToHaveAttributeAsync(
            "title", new Regex(Regex.Escape($"{Policy.EphemeralFirst}–{Policy.EphemeralLast}")));
        await Expect(LocalPortCell(page, privileged.Port, "LISTEN").Locator(".os-mark.os-privileged")).ToHaveTextAsync("priv");
        var clientCell = LocalPortCell(page, clientPort);
        await Expect(clientCell.Locator(".os-mark.os-ephemeral")).ToHaveCountAsync(Policy.IsOsEphemeral(clientPort) ? 1 : 0, new() { Timeout = ThreePolls * 2 });
        await Expect(clientCell.Locator(".range-chip")).ToHaveTextAsync(PortRanges.Classify(clientPort).ToDisplayName());
        await Expect(page.Locator(".summary-card[data-card=os-ephemeral] .value")).Not.ToHaveTextAsync("0");

        // A picture where the two marks disagree, for the README.
        Directory.CreateDirectory(PublishedApp.Screenshots);
        await page.ScreenshotAsync(new() { Path = Path.Combine(PublishedApp.Screenshots, "os-ephemeral.png") });

        await page.Locator(".os-filter [data-range=os-ephemeral]").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex(@"[?&]range=os-ephemeral(&|$)"));
        await Expect(Rows(page, registered.Port)).ToBeVisibleAsync();
        // The privileged listener has no OS-ephemeral endpoint: it leaves the view.
        await Expect(Rows(page, privileged.Port, "LISTEN")).ToHaveCountAsync(0, new() { Timeout = ThreePolls * 2 });

        await page.Locator(".os-filter [data-range=os-ephemeral]").ClickAsync();
        await page.Locator(".range-filter [data-range=ephemeral]").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex(@"[?&]range=ephemeral(&|$)"));
        await Expect(Rows(page, registered.Port)).ToHaveCountAsync(0, new() { Timeout = ThreePolls * 2 });

        Assert.True(new FileInfo(Path.Combine(PublishedApp.Screenshots, "os-ephemeral.png")).Length > 10_000);
    });

    [Fact]
    public Task A_socket_open_before_the_page_opens_shows_its_age_since_the_service_saw_it() => app.WithPageAsync(output, async page =>
    {
        using var listener = TestListener.OpenIn(20_000, 29_999);

        // Wait (condition with a deadline) until the service has known the socket for at least 3 s.
        var firstSeen = await FirstSeenAsync(listener.Port, TimeSpan.FromSeconds(30));
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        while (DateTimeOffset.UtcNow - firstSeen < TimeSpan.FromSeconds(3))
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "the clock did not move past the socket's first sight");
            await Task.Delay(100); // polling interval of a condition with a deadline
        }

        await page.GotoAsync($"/?port={listener.Port}&state=listen");

        var age = page.Locator(".socket-grid tbody tr.mud-table-row td.col-age");
        await Expect(age).ToHaveCountAsync(1, new() { Timeout = FirstLoad });
        // At least 3 s, and no "≥": the socket opened after the service started, so its age is exact.
        await Expect(age).ToHaveTextAsync(new Regex(@"^([3-9]|[1-5][0-9])s$|^\d+m \d\ds$"));
    });

    /// <summary>The socket's <c>firstSeen</c> in the API (asserting it is not seen at start), once the service has it.</summary>
    private async Task<DateTimeOffset> FirstSeenAsync(int port, TimeSpan timeout)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            var json = await app.Http.GetStringAsync(new Uri($"api/snapshot?port={port}&state=listen", UriKind.Relative));
            using var document = JsonDocument.Parse(json);
            var sockets = document.RootElement.GetProperty("sockets");
            if (sockets.GetArrayLength() == 1)
            {
                var socket = sockets[0];
                Assert.False(socket.GetProperty("seenAtStart").GetBoolean(), "opened after the service started");
                return DateTimeOffset.Parse(socket.GetProperty("firstSeen").GetString()!, CultureInfo.InvariantCulture);
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, $"the API did not list the listener on {port} within {timeout}");
            await Task.Delay(100); // polling interval of a condition with a deadline
        }
    }

    /// <summary>The rows whose local port is <paramref name="port"/>; with <paramref name="state"/>, only those in it.</summary>
    private static ILocator Rows(IPage page, int port, string? state = null)
    {
        var rows = page.Locator(".socket-grid tbody tr.mud-table-row")
            .Filter(new() { Has = page.Locator("td.col-local-port .port", new() { HasTextRegex = new Regex($"^{port}$") }) });
        return state is null ? rows : rows.Filter(new() { Has = page.Locator("td.col-state", new() { HasTextString = state }) });
    }

    /// <summary>The local port cell of the row whose local port is <paramref name="port"/> (in <paramref name="state"/>).</summary>
    private static ILocator LocalPortCell(IPage page, int port, string? state = null) => Rows(page, port, state).Locator("td.col-local-port");
}
