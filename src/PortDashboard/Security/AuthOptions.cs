using System.Globalization;
using Microsoft.Extensions.Options;
using PortDashboard.Hosting;

namespace PortDashboard.Security;

/// <summary>
/// <c>PortDashboard:Auth</c>: who may see the dashboard. Nothing configured means no sign-in, which is allowed only
/// while the app listens on loopback (or when <see cref="AllowAnonymousRemote"/> says the operator means it).
/// </summary>
public sealed class AuthOptions
{
    public const string SectionName = PortDashboardOptions.SectionName + ":Auth";

    /// <summary>The shortest bearer token accepted.</summary>
    public const int MinimumTokenLength = 32;

    /// <summary>A bearer token for scripts and scrapers (<c>Authorization: Bearer …</c>); it also signs in on the login page.</summary>
    public string? Token { get; set; }

    /// <summary>User names and their password hashes (made by <c>hash-password</c>).</summary>
    public Dictionary<string, string> Users { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Allows listening beyond loopback with no credentials configured: anyone who reaches the port sees everything.</summary>
    public bool AllowAnonymousRemote { get; set; }

    /// <summary>Sign-in attempts allowed per client address per minute.</summary>
    public int LoginAttemptsPerMinute { get; set; } = 5;

    /// <summary>How long a sign-in lasts without use (the cookie slides while the dashboard is used).</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary>Whether any credential is configured: then every surface but <c>/healthz</c> and static files requires one.</summary>
    public bool Enabled => !string.IsNullOrEmpty(Token) || Users.Count > 0;

    internal List<string> BindingErrors { get; } = [];

    internal void Bind(IConfigurationSection section)
    {
        Token = section[nameof(Token)] is { Length: > 0 } token ? token : null;
        Users.Clear();
        foreach (var user in section.GetSection(nameof(Users)).GetChildren())
        {
            Users[user.Key] = user.Value ?? "";
        }

        AllowAnonymousRemote = ConfigurationValues.ReadBool(section, nameof(AllowAnonymousRemote), AllowAnonymousRemote, BindingErrors);
        LoginAttemptsPerMinute = ConfigurationValues.ReadInt(section, nameof(LoginAttemptsPerMinute), LoginAttemptsPerMinute, BindingErrors);
        SessionLifetime = ConfigurationValues.ReadTimeSpan(section, nameof(SessionLifetime), SessionLifetime, BindingErrors);
    }
}

/// <summary>
/// Checks <see cref="AuthOptions"/> at start-up against where the app listens: listening beyond loopback with no
/// credentials stops the app with a message that says what to configure.
/// </summary>
internal sealed class AuthOptionsValidator(IConfiguration configuration) : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var errors = new List<string>(options.BindingErrors);
        const string section = AuthOptions.SectionName;

        if (options.Token is { } token && (token.Length < AuthOptions.MinimumTokenLength || token.Any(char.IsWhiteSpace)))
        {
            errors.Add(string.Create(
                CultureInfo.InvariantCulture,
                $"{section}:Token is {token.Length} characters long{(token.Any(char.IsWhiteSpace) ? " and holds white space" : "")}; use at least {AuthOptions.MinimumTokenLength} random characters without spaces, e.g. the output of `openssl rand -base64 48`"));
        }

        foreach (var (user, hash) in options.Users)
        {
            if (string.IsNullOrWhiteSpace(user) || user.Contains(':', StringComparison.Ordinal))
            {
                errors.Add($"{section}:Users has a user name '{user}' that is empty or holds ':'");
            }
            else if (!PasswordHashing.IsHash(hash))
            {
                errors.Add($"{section}:Users:{user} is not a password hash; make one with `dotnet PortDashboard.dll hash-password` (from a checkout: `dotnet run --project src/PortDashboard -- hash-password`)");
            }
        }

        if (options.LoginAttemptsPerMinute is < 1 or > 1000)
        {
            errors.Add($"{section}:LoginAttemptsPerMinute is {options.LoginAttemptsPerMinute}; it must be from 1 to 1000");
        }

        if (options.SessionLifetime < TimeSpan.FromMinutes(1) || options.SessionLifetime > TimeSpan.FromDays(30))
        {
            errors.Add($"{section}:SessionLifetime is {options.SessionLifetime:c}; it must be from 1 minute to 30 days (00:01:00 to 30.00:00:00)");
        }

        var exposed = Exposure.ExposedAddresses(configuration);
        if (exposed.Count > 0 && !options.Enabled && !options.AllowAnonymousRemote)
        {
            errors.Add(
                $"PortDashboard would listen on {string.Join(", ", exposed)}, which other machines can reach, but no credentials are configured. " +
                $"Set {section}:Token (a bearer token) or {section}:Users:<name> (a password hash from `hash-password`), " +
                $"or listen on loopback only (Urls=http://127.0.0.1:5000), " +
                $"or set {section}:AllowAnonymousRemote=true if anyone who can reach the port may see this machine's processes and connections");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
