using System.Collections.Concurrent;
using Microsoft.Playwright;

namespace PortDashboard.EndToEnd.Tests.Container;

/// <summary>
/// The published app, started as the image starts it, in Debian's chromium: the Content-Security-Policy lets Blazor
/// (its import map, its script, its circuit's WebSocket) and the page's components work with no violation reported,
/// without 'unsafe-eval'; with sign-in configured, the sign-in page works under the same policy and its cookie opens
/// the circuit.
/// </summary>
public sealed class BrowserSecurityTests(ContainerRun run) : IClassFixture<ContainerRun>, IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private const float CircuitTimeout = 30_000; // ms: first load (the page is rendered on the server first) and circuit start on a busy machine

    private static readonly string[] ChromiumArgs =
    [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    /// <summary>Collects what the page reports: CSP violations (the DOM event) and console errors.</summary>
    private const string ViolationRecorder = """
        window.__cspViolations = [];
        document.addEventListener('securitypolicyviolation', e =>
            window.__cspViolations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber));
        """;

    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async ValueTask InitializeAsync()
    {
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ChromiumArgs,
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }

    [Fact]
    public async Task The_page_and_its_circuit_run_under_the_policy_without_a_violation()
    {
        var environment = run.Environment(ContainerRun.FreeLoopbackPort());
        await using var app = run.Start(environment);
        var baseAddress = environment["Urls"] + "/";
        await app.WaitUntilHealthyAsync(new Uri(baseAddress + "healthz"), StartTimeout);
        var (page, consoleErrors) = await NewPageAsync(baseAddress);

        var circuit = CircuitTalks(page);
        await page.GotoAsync("/");
        await circuit;

        await AssertNoViolationsAsync(page, consoleErrors, app);
        var csp = (await page.EvaluateAsync<string>("async () => (await fetch('/')).headers.get('content-security-policy')"))!;
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_sign_in_configured_the_sign_in_page_works_under_the_policy_and_its_cookie_opens_the_circuit()
    {
        const string token = "browser-test-token-0123456789-abcdefghijk";
        var environment = run.Environment(ContainerRun.FreeLoopbackPort(), new Dictionary<string, string> { ["PortDashboard__Auth__Token"] = token });
        await using var app = run.Start(environment);
        var baseAddress = environment["Urls"] + "/";
        await app.WaitUntilHealthyAsync(new Uri(baseAddress + "healthz"), StartTimeout);
        var (page, consoleErrors) = await NewPageAsync(baseAddress);

        await page.GotoAsync("/?port=22");
        Assert.StartsWith(baseAddress + "login?returnUrl=", page.Url, StringComparison.Ordinal);
        await AssertNoViolationsAsync(page, consoleErrors, app);

        var circuit = CircuitTalks(page);
        await page.Locator("input[name=Password]").FillAsync(token);
        await page.Locator("button[type=submit]").ClickAsync();
        await circuit;

        Assert.Equal(baseAddress + "?port=22", page.Url);
        await AssertNoViolationsAsync(page, consoleErrors, app);
    }

    [Fact]
    public async Task When_the_server_restarts_the_open_page_shows_the_reconnect_ui_and_comes_back_live_by_itself()
    {
        var environment = run.Environment(ContainerRun.FreeLoopbackPort());
        var baseAddress = environment["Urls"] + "/";
        var first = run.Start(environment);
        RunningApp? second = null;
        try
        {
            await first.WaitUntilHealthyAsync(new Uri(baseAddress + "healthz"), StartTimeout);
            var (page, consoleErrors) = await NewPageAsync(baseAddress);
            var circuit = CircuitTalks(page);
            await page.GotoAsync("/");
            await circuit;
            var modal = page.Locator("#components-reconnect-modal");

            // The server goes away: Blazor notices, shows its reconnect UI and keeps retrying.
            await first.DisposeAsync();
            await Assertions.Expect(modal).ToHaveAttributeAsync("open", "", new() { Timeout = CircuitTimeout });

            // It comes back on the same address: the page reconnects with no click (the old circuit is gone, so the
            // reconnect UI reloads the page) and a new circuit, opened after that reload, is up and talking.
            var again = CircuitTalks(page, afterNavigation: true);
            second = run.Start(environment);
            await second.WaitUntilHealthyAsync(new Uri(baseAddress + "healthz"), StartTimeout);
            await again.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
            await Assertions.Expect(modal).Not.ToHaveAttributeAsync("open", "", new() { Timeout = CircuitTimeout });
            await AssertNoViolationsAsync(page, consoleErrors, second);
        }
        finally
        {
            await first.DisposeAsync();
            if (second is not null)
            {
                await second.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Completes when Blazor's circuit WebSocket delivers a render batch: the circuit is up and rendering (the first
    /// frames are only the handshake, and a circuit cut before it starts is not reconnected).
    /// </summary>
    /// <param name="page">The page.</param>
    /// <param name="afterNavigation">Count only a circuit opened after the page next navigates (reloads).</param>
    private static Task CircuitTalks(IPage page, bool afterNavigation = false)
    {
        var rendered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var navigated = !afterNavigation;
        page.FrameNavigated += (_, frame) => navigated |= frame == page.MainFrame;
        page.WebSocket += (_, socket) =>
        {
            if (navigated && socket.Url.Contains("/_blazor", StringComparison.Ordinal))
            {
                socket.FrameReceived += (_, frame) =>
                {
                    if (IsRenderBatch(frame))
                    {
                        rendered.TrySetResult();
                    }
                };
            }
        };
        return afterNavigation ? rendered.Task : rendered.Task.WaitAsync(TimeSpan.FromMilliseconds(CircuitTimeout));
    }

    private static bool IsRenderBatch(IWebSocketFrame frame) =>
        frame.Binary is { } binary
            ? binary.AsSpan().IndexOf("JS.RenderBatch"u8) >= 0
            : frame.Text?.Contains("JS.RenderBatch", StringComparison.Ordinal) == true;

    private async Task<(IPage Page, ConcurrentQueue<string> ConsoleErrors)> NewPageAsync(string baseAddress)
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseAddress });
        await context.AddInitScriptAsync(ViolationRecorder);
        var page = await context.NewPageAsync();
        var errors = new ConcurrentQueue<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Enqueue(message.Text);
            }
        };
        return (page, errors);
    }

    private static async Task AssertNoViolationsAsync(IPage page, ConcurrentQueue<string> consoleErrors, RunningApp app)
    {
        var violations = await page.EvaluateAsync<string[]>("() => window.__cspViolations");
        Assert.True(violations.Length == 0, $"CSP violations on {page.Url}:\n{string.Join('\n', violations)}\n--- app ---\n{app.Output}");
        var cspErrors = consoleErrors.Where(e => e.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(cspErrors.Count == 0, $"console errors about the CSP on {page.Url}:\n{string.Join('\n', cspErrors)}");
    }
}
