using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Components;

namespace PortDashboard.Security;

/// <summary>
/// Security headers on every response, set as the response starts (so error pages and refusals carry them too):
/// a Content-Security-Policy that fits Blazor Server and MudBlazor, <c>X-Content-Type-Options: nosniff</c>,
/// <c>Referrer-Policy: no-referrer</c>, <c>frame-ancestors 'none'</c> (and <c>X-Frame-Options: DENY</c> for older browsers).
/// </summary>
/// <remarks>
/// The policy: scripts only from the app itself, plus the one inline script Blazor renders, the import map, allowed by
/// its SHA-256 hash (it depends on the build's fingerprinted assets, so it is computed from the same asset collection
/// the page renders it from); no <c>'unsafe-eval'</c>. Styles from the app and inline, since MudBlazor sets
/// <c>style</c> attributes and its theme provider renders a <c>&lt;style&gt;</c> element. Connections to the app's own
/// origin, including its WebSockets (Blazor's circuit, the hub). Images and fonts from the app or <c>data:</c> URIs.
/// </remarks>
public static partial class SecurityHeaders
{
    private const string StaticDirectives =
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'";

    private static readonly ConditionalWeakTable<ResourceAssetCollection, string> ImportMapHashes = [];

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            context.Response.OnStarting(static state => Apply((HttpContext)state), context);
            return next(context);
        });

    /// <summary>The Content-Security-Policy for <paramref name="context"/>'s response.</summary>
    public static string ContentSecurityPolicy(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var script = "script-src 'self'";
        if (context.GetEndpoint()?.Metadata.GetMetadata<ResourceAssetCollection>() is { } assets)
        {
            script += " " + ImportMapHashes.GetValue(assets, static a => HashSource(ImportMapDefinition.FromResourceCollection(a).ToString()));
        }

        var connect = "connect-src 'self'";
        var host = context.Request.Host.Value;
        if (!string.IsNullOrEmpty(host) && SafeHost().IsMatch(host))
        {
            // 'self' covers same-origin WebSockets in current browsers; naming them keeps older ones working too.
            connect += $" ws://{host} wss://{host}";
        }

        return $"{StaticDirectives}; {script}; {connect}";
    }

    /// <summary>A CSP hash source for an inline script's text: <c>'sha256-…'</c>.</summary>
    public static string HashSource(string inlineScript)
    {
        ArgumentNullException.ThrowIfNull(inlineScript);
        return $"'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(inlineScript)))}'";
    }

    private static Task Apply(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy(context);
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        return Task.CompletedTask;
    }

    [GeneratedRegex(@"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")]
    private static partial Regex SafeHost();
}
