using System.Security.Claims;
using Microsoft.Extensions.Options;

namespace PortDashboard.Security;

/// <summary>
/// Checks what a client offers against <see cref="AuthOptions"/>: a bearer token, or a user name and password from the
/// login page (the token also works there, with no user name). A principal carries a fingerprint of the credential it
/// was made from, so a session ends when that credential is changed or removed from the configuration.
/// </summary>
public sealed class Credentials(IOptions<AuthOptions> options)
{
    /// <summary>The claim holding the fingerprint of the credential a principal was made from.</summary>
    public const string FingerprintClaim = "portdashboard:credential";

    /// <summary>The name a token holder is known by.</summary>
    public const string TokenUser = "token";

    /// <summary>Compared against when the user name is unknown, so an unknown name takes as long as a wrong password.</summary>
    private static readonly Lazy<string> DecoyHash = new(() => PasswordHashing.Hash(Guid.NewGuid().ToString("N")));

    private readonly AuthOptions _options = options.Value;

    public bool Enabled => _options.Enabled;

    public bool AcceptsToken => !string.IsNullOrEmpty(_options.Token);

    public bool HasUsers => _options.Users.Count > 0;

    /// <summary>The principal for a bearer token, or null when it is not the configured one.</summary>
    public ClaimsPrincipal? FromToken(string token, string scheme)
    {
        ArgumentNullException.ThrowIfNull(token);
        return _options.Token is { Length: > 0 } expected && PasswordHashing.SecretEquals(expected, token)
            ? Principal(TokenUser, PasswordHashing.Fingerprint(expected), scheme)
            : null;
    }

    /// <summary>
    /// The principal for a login form: a configured user and its password, or (with no user name) the bearer token.
    /// Null when they do not match.
    /// </summary>
    public ClaimsPrincipal? FromPassword(string? user, string? password, string scheme)
    {
        if (string.IsNullOrEmpty(password))
        {
            return null;
        }

        if (string.IsNullOrWhiteSpace(user))
        {
            return FromToken(password, scheme);
        }

        var name = _options.Users.Keys.FirstOrDefault(k => string.Equals(k, user.Trim(), StringComparison.OrdinalIgnoreCase));
        if (name is null)
        {
            PasswordHashing.Verify(DecoyHash.Value, password);
            return null;
        }

        var hash = _options.Users[name];
        return PasswordHashing.Verify(hash, password) ? Principal(name, PasswordHashing.Fingerprint(hash), scheme) : null;
    }

    /// <summary>Whether the credential <paramref name="principal"/> was made from is still configured, unchanged.</summary>
    public bool IsCurrent(ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        var name = principal.Identity?.Name;
        var fingerprint = principal.FindFirstValue(FingerprintClaim);
        if (name is null || fingerprint is null)
        {
            return false;
        }

        if (name == TokenUser)
        {
            return _options.Token is { Length: > 0 } token && PasswordHashing.Fingerprint(token) == fingerprint;
        }

        return _options.Users.TryGetValue(name, out var hash) && PasswordHashing.Fingerprint(hash) == fingerprint;
    }

    private static ClaimsPrincipal Principal(string name, string fingerprint, string scheme) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Name, name), new Claim(FingerprintClaim, fingerprint)], scheme));
}
