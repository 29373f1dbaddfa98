using System.Net;
using System.Text.RegularExpressions;
using PortDashboard.Security;
using PortDashboard.Tests.Support;

namespace PortDashboard.Tests.Security;

/// <summary>Every response carries the security headers, whatever produced it: a page, the API, a refusal, an error, a file.</summary>
public sealed partial class SecurityHeadersTests(WebHostFixture host) : IClassFixture<WebHostFixture>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public static TheoryData<string, string, int> Responses => new()
    {
        { "GET", "/", 200 }, // the Connections page
        { "GET", "/no-such-page", 404 },
        { "GET", "/api/snapshot?state=listen", 200 },
        { "GET", "/api/snapshot?range=bogus", 400 },
        { "POST", "/api/snapshot", 405 },
        { "GET", "/healthz", 0 }, // 200, or 503 if a busy test machine let the 1 s freshness window pass: the headers are the point
        { "GET", "/metrics", 200 },
        { "GET", "/app.css", 200 },
        { "GET", "/login", 302 }, // no sign-in configured: back to the dashboard
    };

    [Theory]
    [MemberData(nameof(Responses))]
    public async Task Every_response_carries_the_security_headers(string method, string path, int status)
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = host.BaseAddress };
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative));

        using var response = await client.SendAsync(request, Cancellation);

        if (status != 0)
        {
            Assert.Equal(status, (int)response.StatusCode);
        }

        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        Assert.Equal("no-referrer", Header(response, "Referrer-Policy"));
        Assert.Equal("DENY", Header(response, "X-Frame-Options"));
        var csp = Header(response, "Content-Security-Policy");
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("default-src 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        Assert.DoesNotMatch(ScriptUnsafeInline(), csp);
        Assert.Contains($"connect-src 'self' ws://{host.BaseAddress.Authority} wss://{host.BaseAddress.Authority}", csp, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_page_s_csp_allows_exactly_its_inline_import_map_by_hash()
    {
        using var response = await host.Client.GetAsync(new Uri("/", UriKind.Relative), Cancellation);
        var html = await response.Content.ReadAsStringAsync(Cancellation);

        var importMap = ImportMap().Match(html);
        Assert.True(importMap.Success, "the page renders Blazor's import map inline");
        var csp = Header(response, "Content-Security-Policy");
        var scriptSources = ScriptSources().Match(csp).Groups[1].Value.Split(' ');
        Assert.Equal(["'self'", SecurityHeaders.HashSource(importMap.Groups[1].Value)], scriptSources);
        Assert.Equal(1, InlineScripts().Count(html)); // nothing else inline that the policy would block
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(", ", values)
            : throw new Xunit.Sdk.XunitException($"{name} is missing from {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} ({(int)response.StatusCode})");

    [GeneratedRegex("<script type=\"importmap\">(.*?)</script>", RegexOptions.Singleline)]
    private static partial Regex ImportMap();

    [GeneratedRegex("script-src ([^;]+)")]
    private static partial Regex ScriptSources();

    [GeneratedRegex("script-src[^;]*'unsafe-inline'")]
    private static partial Regex ScriptUnsafeInline();

    [GeneratedRegex("<script(?![^>]*\\ssrc=)[^>]*>")]
    private static partial Regex InlineScripts();
}
