using System.Net;

namespace PortDashboard.Tests.Security;

/// <summary>Sign-in attempts are limited per client address (ASP.NET Core's rate limiter, a fixed one-minute window).</summary>
public sealed class LoginRateLimitTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_attempt_after_the_allowed_number_in_a_minute_is_refused_with_429_and_when_to_retry()
    {
        await using var app = new SecuredApp(loginAttemptsPerMinute: 3);
        await app.InitializeAsync();
        var (browser, _) = app.NewBrowser();
        using var _browser = browser;

        for (var attempt = 1; attempt <= 3; attempt++)
        {
            using var wrong = await SecuredApp.SignIn(browser, SecuredApp.User, "guess " + attempt);
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }

        // Even the right password is refused now: a guesser cannot tell a hit from the limit.
        using var limited = await SecuredApp.SignIn(browser, SecuredApp.User, SecuredApp.Password);

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        var retryAfter = limited.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        Assert.Contains("Too many sign-in attempts from this address: at most 3 a minute", await limited.Content.ReadAsStringAsync(Cancellation), StringComparison.Ordinal);

        // The page itself and the other surfaces are not limited.
        using var page = await browser.GetAsync(new Uri("/login", UriKind.Relative), Cancellation);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        using var bearer = app.NewBearerClient();
        using var api = await bearer.GetAsync(new Uri("/api/snapshot", UriKind.Relative), Cancellation);
        Assert.Equal(HttpStatusCode.OK, api.StatusCode);
    }
}
