using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using PortDashboard.Hubs;

namespace PortDashboard.Security;

/// <summary>
/// <c>Authorization: Bearer &lt;PortDashboard:Auth:Token&gt;</c>; on the hub also <c>?access_token=</c>, since browsers
/// cannot set headers on WebSockets or server-sent events. A challenge answers 401 with problem details.
/// </summary>
internal sealed class BearerTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    Credentials credentials) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";

    /// <summary>The token a request offers, if any.</summary>
    public static string? TokenOf(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }

        return request.Path.StartsWithSegments(SocketsHub.Path) && request.Query["access_token"] is [{ Length: > 0 } token]
            ? token
            : null;
    }

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (TokenOf(Request) is not { } token)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var principal = credentials.FromToken(token, Scheme.Name);
        return Task.FromResult(principal is null
            ? AuthenticateResult.Fail(credentials.AcceptsToken ? "the bearer token is not the one configured" : "no bearer token is configured (PortDashboard:Auth:Token)")
            : AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.Headers.WWWAuthenticate = result.Failure is null ? "Bearer" : "Bearer error=\"invalid_token\"";
        await SecurityProblems.WriteAsync(
            Context,
            StatusCodes.Status401Unauthorized,
            "Authentication required",
            result.Failure?.Message ?? SecurityProblems.HowToAuthenticate);
    }
}
