using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Mvc;
using PortDashboard.Components.Pages;

namespace PortDashboard.Security;

/// <summary>
/// <c>GET /login</c> (the sign-in page; with a session, who is signed in and a sign-out button), <c>POST /login</c> (checks the form, sets the session cookie; rate-limited per
/// client address, antiforgery-checked) and <c>POST /logout</c>. The page is rendered on its own, outside the
/// interactive app: no Blazor circuit is opened before the visitor has signed in.
/// </summary>
public static class SignInEndpoints
{
    public const string LoginPath = "/login";

    public const string LogoutPath = "/logout";

    public const string ReturnUrlParameter = "returnUrl";

    /// <summary>Longer input than this is refused before any hashing is done.</summary>
    private const int MaximumFieldLength = 1024;

    public static IEndpointRouteBuilder MapSignIn(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet(LoginPath, ShowLogin).AllowAnonymous();

        // The form is read and its antiforgery token checked here rather than by parameter binding, so a stale or
        // missing token and an oversized form get the sign-in page with a reason, in every environment.
        endpoints.MapPost(LoginPath, SignInAsync).AllowAnonymous().DisableAntiforgery().RequireRateLimiting(PortDashboardSecurity.LoginRateLimit);
        endpoints.MapPost(LogoutPath, SignOutAsync).AllowAnonymous().DisableAntiforgery();
        return endpoints;
    }

    internal static IResult ShowLogin(HttpContext context, Credentials credentials, [FromQuery(Name = ReturnUrlParameter)] string? returnUrl)
    {
        var target = SafeReturnUrl(returnUrl);
        if (!credentials.Enabled)
        {
            return TypedResults.LocalRedirect(target);
        }

        // Signed in already: the page says as whom and offers to sign out.
        return Page(credentials, target, error: null, StatusCodes.Status200OK, context.User.Identity?.IsAuthenticated == true ? context.User.Identity.Name : null);
    }

    internal static async Task<IResult> SignInAsync(HttpContext context, Credentials credentials, IAntiforgery antiforgery, ILoggerFactory loggers)
    {
        var (form, refusal, status) = await ReadFormAsync(context, antiforgery);
        var target = SafeReturnUrl(form?["ReturnUrl"]);
        if (!credentials.Enabled)
        {
            return TypedResults.LocalRedirect(target);
        }

        if (form is null)
        {
            return Page(credentials, target, refusal, status);
        }

        var logger = loggers.CreateLogger(typeof(SignInEndpoints));
        var user = form["UserName"].ToString().Trim();
        var password = form["Password"].ToString();
        if (password.Length == 0 || password.Length > MaximumFieldLength || user.Length > MaximumFieldLength)
        {
            return Page(credentials, target, $"Enter a password of at most {MaximumFieldLength} characters.", StatusCodes.Status400BadRequest);
        }

        var principal = credentials.FromPassword(user, password, PortDashboardSecurity.CookieScheme);
        if (principal is null)
        {
            logger.LogWarning(
                "Failed sign-in as {User} from {RemoteAddress}",
                user.Length == 0 ? "(token)" : user, context.Connection.RemoteIpAddress);
            var what = credentials.HasUsers ? "user name and password do" : "token does";
            return Page(credentials, target, $"That {what} not match. Attempts are limited per minute.", StatusCodes.Status401Unauthorized);
        }

        await context.SignInAsync(PortDashboardSecurity.CookieScheme, principal, new AuthenticationProperties { IsPersistent = false });
        logger.LogInformation("{User} signed in from {RemoteAddress}", principal.Identity!.Name, context.Connection.RemoteIpAddress);
        return TypedResults.LocalRedirect(target);
    }

    internal static async Task<IResult> SignOutAsync(HttpContext context, IAntiforgery antiforgery)
    {
        var (form, refusal, status) = await ReadFormAsync(context, antiforgery);
        if (form is null)
        {
            return TypedResults.Problem(title: "Cannot sign out", detail: refusal, statusCode: status);
        }

        await context.SignOutAsync(PortDashboardSecurity.CookieScheme);
        return TypedResults.LocalRedirect($"{LoginPath}?{ReturnUrlParameter}={Uri.EscapeDataString(SafeReturnUrl(form["ReturnUrl"]))}");
    }

    /// <summary>The posted form when it is one, fits the limits and carries a valid antiforgery token; else why not.</summary>
    private static async Task<(IFormCollection? Form, string Refusal, int Status)> ReadFormAsync(HttpContext context, IAntiforgery antiforgery)
    {
        const int bad = StatusCodes.Status400BadRequest;
        if (!context.Request.HasFormContentType)
        {
            return (null, "Sign in with the form on this page.", StatusCodes.Status415UnsupportedMediaType);
        }

        try
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            return await antiforgery.IsRequestValidAsync(context)
                ? (form, "", StatusCodes.Status200OK)
                : (null, "This form has expired or did not come from this page; sign in again.", bad);
        }
        catch (BadHttpRequestException e)
        {
            return (null, "The form is larger than this server accepts.", e.StatusCode);
        }
        catch (InvalidDataException)
        {
            return (null, "The form has more or longer fields than a sign-in needs.", bad);
        }
    }

    /// <summary>A path on this site to go back to after signing in; anything else (another site, <c>//host</c>) becomes <c>/</c>.</summary>
    public static string SafeReturnUrl(string? returnUrl) =>
        returnUrl is { Length: > 0 and <= 2048 } url && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'))
            && !url.Any(char.IsControl)
            ? url
            : "/";

    private static RazorComponentResult<Login> Page(Credentials credentials, string returnUrl, string? error, int status, string? signedInAs = null) =>
        new(new Dictionary<string, object?>
        {
            [nameof(Login.SignedInAs)] = signedInAs,
            [nameof(Login.ReturnUrl)] = returnUrl,
            [nameof(Login.Error)] = error,
            [nameof(Login.AsksForUserName)] = credentials.HasUsers,
            [nameof(Login.AcceptsToken)] = credentials.AcceptsToken,
        })
        {
            StatusCode = status,
        };
}
