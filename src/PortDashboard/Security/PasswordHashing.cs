using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Identity;

namespace PortDashboard.Security;

/// <summary>
/// Password hashes as ASP.NET Core Identity makes them (<see cref="PasswordHasher{TUser}"/>, format v3: PBKDF2 with
/// HMAC-SHA512, a random 128-bit salt, 100,000 iterations, base64), and constant-time comparison of bearer tokens.
/// </summary>
public static class PasswordHashing
{
    private const byte FormatV3 = 0x01;

    private static readonly PasswordHasher<string> Hasher = new();

    public static string Hash(string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(password);
        return Hasher.HashPassword(string.Empty, password);
    }

    /// <summary>Whether <paramref name="password"/> matches <paramref name="hash"/>; false for a malformed hash.</summary>
    public static bool Verify(string hash, string password)
    {
        if (!IsHash(hash) || string.IsNullOrEmpty(password))
        {
            return false;
        }

        return Hasher.VerifyHashedPassword(string.Empty, hash, password) != PasswordVerificationResult.Failed;
    }

    /// <summary>Whether <paramref name="value"/> looks like a v3 hash (base64, format marker, salt and subkey).</summary>
    public static bool IsHash(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        var bytes = new byte[value.Length];
        return Convert.TryFromBase64String(value, bytes, out var length) && length >= 13 + 16 + 32 && bytes[0] == FormatV3;
    }

    /// <summary>Compares two secrets in time that does not depend on where they differ (or on their lengths).</summary>
    public static bool SecretEquals(string expected, string offered)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(offered);
        return CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(expected)),
            SHA256.HashData(Encoding.UTF8.GetBytes(offered)));
    }

    /// <summary>A short, non-reversible fingerprint of a credential: a session remembers it and ends when the credential changes.</summary>
    public static string Fingerprint(string credential)
    {
        ArgumentNullException.ThrowIfNull(credential);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes("portdashboard-session:" + credential)), 0, 8);
    }
}
