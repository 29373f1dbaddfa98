using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using PortDashboard.Api;
using PortDashboard.Hubs;

namespace PortDashboard.Security;

/// <summary>
/// Who may see the dashboard and how much a client may ask of it. With <c>PortDashboard:Auth</c> configured every
/// surface but <c>/healthz</c> and static files requires a credential: pages (a sign-in cookie from <c>/login</c>),
/// <c>/api/*</c>, the hub and <c>/metrics</c> (the cookie or the bearer token), Blazor's circuit (the cookie).
/// </summary>
public static class PortDashboardSecurity
{
    /// <summary>The sign-in cookie's scheme.</summary>
    public const string CookieScheme = CookieAuthenticationDefaults.AuthenticationScheme;

    /// <summary>The default scheme: the bearer token when the request offers one, else the cookie.</summary>
    public const string SelectorScheme = "PortDashboard";

    /// <summary>The rate-limiting policy of <c>POST /login</c>.</summary>
    public const string LoginRateLimit = "login";

    public const string CookieName = "PortDashboard.Session";

    public static WebApplicationBuilder AddPortDashboardSecurity(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;

        services.AddOptions<AuthOptions>()
            .Configure<IConfiguration>((options, configuration) => options.Bind(configuration.GetSection(AuthOptions.SectionName)))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        services.AddOptions<LimitsOptions>()
            .Configure<IConfiguration>((options, configuration) => options.Bind(configuration.GetSection(LimitsOptions.SectionName)))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<LimitsOptions>, LimitsOptionsValidator>();
        services.AddSingleton<Credentials>();

        services.AddAuthentication(SelectorScheme)
            .AddPolicyScheme(SelectorScheme, null, options =>
                options.ForwardDefaultSelector = context =>
                    BearerTokenHandler.TokenOf(context.Request) is null ? CookieScheme : BearerTokenHandler.SchemeName)
            .AddCookie(CookieScheme)
            .AddScheme<AuthenticationSchemeOptions, BearerTokenHandler>(BearerTokenHandler.SchemeName, null);
        services.AddOptions<CookieAuthenticationOptions>(CookieScheme).Configure<IOptions<AuthOptions>>(ConfigureCookie);

        services.AddAuthorization();
        services.AddOptions<AuthorizationOptions>().Configure<IOptions<AuthOptions>>((authorization, auth) =>
        {
            if (auth.Value.Enabled)
            {
                authorization.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build();
            }
        });

        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<AuthOptions>>(ConfigureLoginRateLimit);

        // Request sizes: Kestrel's own limits (URL 8 KiB, headers 32 KiB) answer 414 and 431; bodies are capped here.
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<LimitsOptions>>((kestrel, limits) =>
            kestrel.Limits.MaxRequestBodySize = limits.Value.RequestBodyBytes);
        services.Configure<FormOptions>(form =>
        {
            form.ValueLengthLimit = 4096;
            form.ValueCountLimit = 16;
        });

        // The public hub: a bounded number of connections and message size; binding errors (a number where the filter
        // string goes, a wrong argument count) reach the client with their reason instead of a bare "error on the server".
        // AddHubOptions makes SignalR use the hub's own options; the values depending on configuration come after it.
        services.AddSingleton<HubConnectionLimit>();
        services.AddSignalR().AddHubOptions<SocketsHub>(hub =>
        {
            hub.EnableDetailedErrors = true;
            hub.AddFilter<HubConnectionLimit>();
        });
        services.AddOptions<HubOptions<SocketsHub>>().Configure<IOptions<LimitsOptions>>((hub, limits) =>
            hub.MaximumReceiveMessageSize = limits.Value.HubMessageBytes);
        return builder;
    }

    /// <summary>Security headers first (every response carries them), then authentication, authorization and rate limits.</summary>
    public static WebApplication UsePortDashboardSecurity(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        return app;
    }

    /// <summary>Whether a request is for a page a person looks at (a refused one is sent to /login), not for an API or a probe.</summary>
    public static bool IsPage(PathString path) =>
        !(path.StartsWithSegments("/api")
          || path.StartsWithSegments(SocketsHub.Path)
          || path.StartsWithSegments("/metrics")
          || path.StartsWithSegments("/_blazor")
          || path.StartsWithSegments(SnapshotHealthCheck.Path));

    private static void ConfigureCookie(CookieAuthenticationOptions cookie, IOptions<AuthOptions> auth)
    {
        cookie.Cookie.Name = CookieName;
        cookie.Cookie.HttpOnly = true;
        cookie.Cookie.SameSite = SameSiteMode.Lax; // never sent on another site's WebSocket or fetch to this one
        cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        cookie.LoginPath = SignInEndpoints.LoginPath;
        cookie.LogoutPath = SignInEndpoints.LogoutPath;
        cookie.ReturnUrlParameter = SignInEndpoints.ReturnUrlParameter;
        cookie.ExpireTimeSpan = auth.Value.SessionLifetime;
        cookie.SlidingExpiration = true;
        cookie.Events.OnRedirectToLogin = context => IsPage(context.Request.Path)
            ? RedirectAsync(context)
            : RefuseAsync(context.HttpContext, StatusCodes.Status401Unauthorized, "Authentication required", SecurityProblems.HowToAuthenticate);
        cookie.Events.OnRedirectToAccessDenied = context =>
            RefuseAsync(context.HttpContext, StatusCodes.Status403Forbidden, "Forbidden", "this credential may not use this surface");
        cookie.Events.OnValidatePrincipal = async context =>
        {
            var credentials = context.HttpContext.RequestServices.GetRequiredService<Credentials>();
            if (context.Principal is null || !credentials.IsCurrent(context.Principal))
            {
                context.RejectPrincipal(); // the user was removed or the password or token changed since this sign-in
                await context.HttpContext.SignOutAsync(CookieScheme);
            }
        };
    }

    private static Task RedirectAsync(RedirectContext<CookieAuthenticationOptions> context)
    {
        context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }

    private static Task RefuseAsync(HttpContext context, int status, string title, string detail)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return SecurityProblems.WriteAsync(context, status, title, detail);
    }

    private static void ConfigureLoginRateLimit(RateLimiterOptions limiter, IOptions<AuthOptions> auth)
    {
        var perMinute = auth.Value.LoginAttemptsPerMinute;
        limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        limiter.AddPolicy(LoginRateLimit, context => RateLimitPartition.GetFixedWindowLimiter(
            context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
            _ => new FixedWindowRateLimiterOptions { PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
        limiter.OnRejected = async (rejected, cancellationToken) =>
        {
            var context = rejected.HttpContext;
            var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
            var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(PortDashboardSecurity)).LogWarning(
                "Refused a sign-in attempt from {RemoteAddress}: more than {Attempts} attempts in a minute",
                context.Connection.RemoteIpAddress, perMinute);
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync(
                $"Too many sign-in attempts from this address: at most {perMinute} a minute. Try again in {seconds} s.\n", cancellationToken);
        };
    }
}
