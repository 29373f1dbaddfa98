using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Connections.Client;
using Microsoft.AspNetCore.SignalR.Client;
using PortDashboard.Hubs;
using PortDashboard.Security;
using PortDashboard.Tests.Support;

namespace PortDashboard.Tests.Security;

/// <summary>The real app on a real Kestrel port with <c>PortDashboard:Auth</c> configured: a bearer token and one user.</summary>
public sealed partial class SecuredApp : IAsyncLifetime
{
    public const string Token = "t0ken-for-tests-0123456789-abcdefghijklmnop";
    public const string User = "alice";
    public const string Password = "correct horse battery staple";

    private static readonly Lazy<string> PasswordHash = new(() => PasswordHashing.Hash(Password));

    public SecuredApp()
        : this(loginAttemptsPerMinute: 1000)
    {
    }

    internal SecuredApp(int loginAttemptsPerMinute, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var merged = new Dictionary<string, string?>
        {
            ["PortDashboard:Auth:Token"] = Token,
            [$"PortDashboard:Auth:Users:{User}"] = PasswordHash.Value,
            ["PortDashboard:Auth:LoginAttemptsPerMinute"] = loginAttemptsPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            merged[key] = value;
        }

        Factory = new PortDashboardFactory(merged);
    }

    public PortDashboardFactory Factory { get; }

    public Uri BaseAddress { get; private set; } = null!;

    public ValueTask InitializeAsync()
    {
        BaseAddress = Factory.Start();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await Factory.DisposeAsync();

    /// <summary>A client that keeps cookies and does not follow redirects (a test looks at them).</summary>
    public (HttpClient Client, CookieContainer Cookies) NewBrowser()
    {
        var cookies = new CookieContainer();
        var handler = new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false };
        return (new HttpClient(handler) { BaseAddress = BaseAddress }, cookies);
    }

    /// <summary>A client sending the bearer token (or <paramref name="token"/>) on every request.</summary>
    public HttpClient NewBearerClient(string token = Token)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Opens /login and posts the form as a browser would; returns the answer (a redirect on success).</summary>
    public static async Task<HttpResponseMessage> SignIn(HttpClient browser, string? user, string password, string returnUrl = "/")
    {
        var token = await AntiforgeryToken(browser, returnUrl);
        var fields = new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["Password"] = password,
            ["ReturnUrl"] = returnUrl,
        };
        if (user is not null)
        {
            fields["UserName"] = user;
        }

        using var form = new FormUrlEncodedContent(fields);
        return await browser.PostAsync(new Uri("/login", UriKind.Relative), form, TestContext.Current.CancellationToken);
    }

    /// <summary>The antiforgery token of the sign-in page (its cookie lands in the client's container).</summary>
    public static async Task<string> AntiforgeryToken(HttpClient browser, string returnUrl = "/")
    {
        var page = await browser.GetStringAsync(new Uri($"/login?returnUrl={Uri.EscapeDataString(returnUrl)}", UriKind.Relative), TestContext.Current.CancellationToken);
        return AntiforgeryField().Match(page) is { Success: true } match
            ? WebUtility.HtmlDecode(match.Groups[1].Value)
            : throw new InvalidOperationException("no antiforgery token on the sign-in page:\n" + page);
    }

    /// <summary>A hub connection configured by <paramref name="configure"/> (credentials), not started.</summary>
    public HubConnection Hub(Action<HttpConnectionOptions>? configure = null, string query = "") =>
        new HubConnectionBuilder().WithUrl(new Uri(BaseAddress, SocketsHub.Path + query), o => configure?.Invoke(o)).Build();

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
