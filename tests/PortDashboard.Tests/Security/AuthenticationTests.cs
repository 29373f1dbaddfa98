using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using PortDashboard.Api;
using PortDashboard.Hubs;
using PortDashboard.Security;
using PortDashboard.Tests.Support;

namespace PortDashboard.Tests.Security;

/// <summary>
/// With <c>PortDashboard:Auth</c> configured, every surface refuses a request without credentials and serves it with
/// them: pages (cookie from /login), /api/*, the hub, Blazor's circuit, /metrics (cookie or bearer token).
/// </summary>
public sealed class AuthenticationTests(SecuredApp app) : IClassFixture<SecuredApp>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    /// <summary>Surfaces for scripts: refused with 401 and problem details that say what to send.</summary>
    private static readonly (string Method, string Path)[] Surfaces =
    [
        ("GET", "/api/snapshot"),
        ("GET", "/api/snapshot.csv?proto=tcp"),
        ("GET", "/metrics"),
        ("POST", SocketsHub.Path + "/negotiate?negotiateVersion=1"),
        ("POST", "/_blazor/negotiate?negotiateVersion=1"),
    ];

    public static TheoryData<string, string> ApiSurfaces => new(Surfaces);

    private static HttpRequestMessage Request(string method, string path) => new(new HttpMethod(method), new Uri(path, UriKind.Relative));

    [Theory]
    [MemberData(nameof(ApiSurfaces))]
    public async Task Each_api_surface_refuses_a_request_without_credentials_with_401_and_the_reason(string method, string path)
    {
        var (browser, _) = app.NewBrowser();
        using var _browser = browser;
        using var request = Request(method, path);

        using var response = await browser.SendAsync(request, Cancellation);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation));
        Assert.Equal("Authentication required", body.RootElement.GetProperty("title").GetString());
        Assert.Contains("Authorization: Bearer", body.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(ApiSurfaces))]
    public async Task Each_api_surface_serves_a_request_with_the_bearer_token(string method, string path)
    {
        using var client = app.NewBearerClient();
        using var request = Request(method, path);

        using var response = await client.SendAsync(request, Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [MemberData(nameof(ApiSurfaces))]
    public async Task A_wrong_bearer_token_is_refused_and_named_invalid(string method, string path)
    {
        using var client = app.NewBearerClient("not-the-token-0123456789-0123456789-0123456789");
        using var request = Request(method, path);

        using var response = await client.SendAsync(request, Cancellation);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString());
        Assert.Contains("not the one configured", await response.Content.ReadAsStringAsync(Cancellation), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/listening?port=22")]
    [InlineData("/no-such-page")]
    public async Task A_page_without_a_session_redirects_to_the_sign_in_page_and_comes_back_after(string path)
    {
        var (browser, _) = app.NewBrowser();
        using var _browser = browser;

        using var response = await browser.GetAsync(new Uri(path, UriKind.Relative), Cancellation);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"/login?returnUrl={Uri.EscapeDataString(path)}", response.Headers.Location!.PathAndQuery);

        using var signedIn = await SecuredApp.SignIn(browser, SecuredApp.User, SecuredApp.Password, path);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal(path, signedIn.Headers.Location!.OriginalString);
        using var again = await browser.GetAsync(new Uri(path, UriKind.Relative), Cancellation);
        Assert.NotEqual(HttpStatusCode.Redirect, again.StatusCode);
        Assert.NotEqual(HttpStatusCode.Unauthorized, again.StatusCode);
    }

    [Fact]
    public async Task The_session_cookie_from_the_sign_in_page_opens_every_surface()
    {
        var (browser, cookies) = app.NewBrowser();
        using var _browser = browser;
        using var signedIn = await SecuredApp.SignIn(browser, SecuredApp.User, SecuredApp.Password);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var session = cookies.GetCookies(app.BaseAddress)[PortDashboardSecurity.CookieName];
        Assert.NotNull(session);
        Assert.True(session.HttpOnly, "the session cookie is out of scripts' reach");

        foreach (var (method, path) in Surfaces)
        {
            using var request = Request(method, path);
            using var response = await browser.SendAsync(request, Cancellation);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{method} {path} with the session cookie answered {response.StatusCode}");
        }

        await using var hub = app.Hub(o => o.Cookies = cookies);
        await hub.StartAsync(Cancellation);
        Assert.Equal("state=listen", await hub.InvokeAsync<string>("Subscribe", "state=listen", Cancellation));
    }

    [Fact]
    public async Task The_token_signs_in_on_the_page_without_a_user_name()
    {
        var (browser, _) = app.NewBrowser();
        using var _browser = browser;

        using var signedIn = await SecuredApp.SignIn(browser, user: null, SecuredApp.Token, "/api/snapshot");

        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        using var response = await browser.GetAsync(signedIn.Headers.Location, Cancellation);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData(SecuredApp.User, "wrong password")]
    [InlineData("mallory", SecuredApp.Password)]
    [InlineData(null, "not the token")]
    public async Task Wrong_credentials_get_the_page_again_with_the_reason_and_no_session(string? user, string password)
    {
        var (browser, cookies) = app.NewBrowser();
        using var _browser = browser;

        using var response = await SecuredApp.SignIn(browser, user, password);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var page = await response.Content.ReadAsStringAsync(Cancellation);
        Assert.Contains("role=\"alert\"", page, StringComparison.Ordinal);
        Assert.Contains("not match", page, StringComparison.Ordinal);
        Assert.Null(cookies.GetCookies(app.BaseAddress)[PortDashboardSecurity.CookieName]);
        using var api = await browser.GetAsync(new Uri("/api/snapshot", UriKind.Relative), Cancellation);
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
    }

    [Fact]
    public async Task A_sign_in_form_without_its_antiforgery_token_is_refused_with_the_reason()
    {
        var (browser, cookies) = app.NewBrowser();
        using var _browser = browser;
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["UserName"] = SecuredApp.User, ["Password"] = SecuredApp.Password });

        using var response = await browser.PostAsync(new Uri("/login", UriKind.Relative), form, Cancellation);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("This form has expired or did not come from this page", await response.Content.ReadAsStringAsync(Cancellation), StringComparison.Ordinal);
        Assert.Null(cookies.GetCookies(app.BaseAddress)[PortDashboardSecurity.CookieName]);
    }

    [Theory]
    [InlineData("https://elsewhere.example/")]
    [InlineData("//elsewhere.example/")]
    [InlineData("/\\elsewhere.example/")]
    [InlineData("javascript:alert(1)")]
    public async Task After_signing_in_only_a_path_on_this_site_is_followed(string returnUrl)
    {
        var (browser, _) = app.NewBrowser();
        using var _browser = browser;

        using var response = await SecuredApp.SignIn(browser, SecuredApp.User, SecuredApp.Password, returnUrl);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Signing_out_ends_the_session()
    {
        var (browser, _) = app.NewBrowser();
        using var _browser = browser;
        using (var signedIn = await SecuredApp.SignIn(browser, SecuredApp.User, SecuredApp.Password))
        {
            Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        }

        var token = await SecuredApp.AntiforgeryToken(browser);
        using var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token });
        using var signedOut = await browser.PostAsync(new Uri("/logout", UriKind.Relative), form, Cancellation);

        Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);
        Assert.StartsWith("/login", signedOut.Headers.Location!.OriginalString, StringComparison.Ordinal);
        using var api = await browser.GetAsync(new Uri("/api/snapshot", UriKind.Relative), Cancellation);
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
    }

    [Fact]
    public async Task The_hub_refuses_a_client_without_credentials()
    {
        await using var hub = app.Hub();

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => hub.StartAsync(Cancellation));

        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
    }

    [Fact]
    public async Task The_hub_takes_the_bearer_token_in_the_header_or_as_access_token_on_a_websocket()
    {
        await using var header = app.Hub(o => o.AccessTokenProvider = () => Task.FromResult<string?>(SecuredApp.Token));
        await header.StartAsync(Cancellation);
        Assert.Equal("proto=tcp", await header.InvokeAsync<string>("Subscribe", "proto=tcp", Cancellation));

        // What a browser does: no headers on a WebSocket, so the token rides in the query string.
        await using var query = app.Hub(
            o =>
            {
                o.SkipNegotiation = true;
                o.Transports = HttpTransportType.WebSockets;
            },
            "?access_token=" + Uri.EscapeDataString(SecuredApp.Token));
        var snapshots = new TaskCompletionSource<SnapshotMessage>();
        query.On<SnapshotMessage>(SocketsHub.SnapshotMethod, m => snapshots.TrySetResult(m));
        await query.StartAsync(Cancellation);
        await query.InvokeAsync<string>("Subscribe", "state=listen", Cancellation);
        Assert.Equal("state=listen", (await Eventually.Within(snapshots.Task, "the first Snapshot")).Filter);

        await using var wrong = app.Hub(
            o =>
            {
                o.SkipNegotiation = true;
                o.Transports = HttpTransportType.WebSockets;
            },
            "?access_token=wrong");
        await Assert.ThrowsAnyAsync<Exception>(() => wrong.StartAsync(Cancellation));
    }

    [Fact]
    public async Task Health_probes_and_static_files_need_no_credentials()
    {
        var (browser, _) = app.NewBrowser();
        using var _browser = browser;

        using var health = await browser.GetAsync(new Uri("/healthz", UriKind.Relative), Cancellation);
        using var css = await browser.GetAsync(new Uri("/app.css", UriKind.Relative), Cancellation);
        using var login = await browser.GetAsync(new Uri("/login", UriKind.Relative), Cancellation);

        // Healthy or not (a loaded machine can let the test's 1 s freshness window pass), the probe answers without credentials.
        Assert.True(health.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"/healthz answered {health.StatusCode}");
        Assert.Contains("\"status\":", await health.Content.ReadAsStringAsync(Cancellation), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, css.StatusCode);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var page = await login.Content.ReadAsStringAsync(Cancellation);
        Assert.Contains("name=\"UserName\"", page, StringComparison.Ordinal);
        Assert.Contains("Password (or the token)", page, StringComparison.Ordinal);
        Assert.DoesNotContain("blazor.web.js", page, StringComparison.Ordinal); // no circuit before signing in
    }
}
