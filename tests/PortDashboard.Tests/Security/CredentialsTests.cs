using Microsoft.Extensions.Options;
using PortDashboard.Security;

namespace PortDashboard.Tests.Security;

public sealed class CredentialsTests
{
    private const string Token = "a-token-long-enough-0123456789-0123456789";

    private static Credentials With(string? token = Token, params (string User, string Password)[] users)
    {
        var options = new AuthOptions { Token = token };
        foreach (var (user, password) in users)
        {
            options.Users[user] = PasswordHashing.Hash(password);
        }

        return new Credentials(Options.Create(options));
    }

    [Fact]
    public void A_hash_verifies_its_password_only_and_is_recognised_as_a_hash()
    {
        var hash = PasswordHashing.Hash("correct horse battery staple");

        Assert.True(PasswordHashing.IsHash(hash));
        Assert.True(PasswordHashing.Verify(hash, "correct horse battery staple"));
        Assert.False(PasswordHashing.Verify(hash, "correct horse battery stapl"));
        Assert.NotEqual(hash, PasswordHashing.Hash("correct horse battery staple")); // salted
        Assert.False(PasswordHashing.IsHash("hunter2"));
        Assert.False(PasswordHashing.IsHash(Convert.ToBase64String(new byte[61]))); // not the v3 format marker
        Assert.False(PasswordHashing.Verify("not a hash", "anything"));
    }

    [Fact]
    public void The_login_form_takes_a_user_with_its_password_or_the_token_without_a_user_name()
    {
        var credentials = With(Token, ("Alice", "alice's long password"));

        Assert.Equal("Alice", credentials.FromPassword("alice", "alice's long password", "test")?.Identity?.Name);
        Assert.Equal(Credentials.TokenUser, credentials.FromPassword("", Token, "test")?.Identity?.Name);
        Assert.Null(credentials.FromPassword("alice", Token, "test"));
        Assert.Null(credentials.FromPassword("", "alice's long password", "test"));
        Assert.Null(credentials.FromPassword("bob", "alice's long password", "test"));
        Assert.Null(With(token: null).FromPassword(null, Token, "test"));
    }

    [Fact]
    public void A_session_lasts_while_its_credential_is_configured_unchanged()
    {
        var first = PasswordHashing.Hash("first long password");
        static Credentials Users(string? token, params (string User, string Hash)[] users)
        {
            var options = new AuthOptions { Token = token };
            foreach (var (user, hash) in users)
            {
                options.Users[user] = hash;
            }

            return new Credentials(Options.Create(options));
        }

        var principal = Users(Token, ("alice", first)).FromPassword("alice", "first long password", "test")!;
        var tokenPrincipal = Users(Token).FromToken(Token, "test")!;

        Assert.True(Users(Token, ("alice", first)).IsCurrent(principal), "the same configuration after a restart");
        Assert.False(Users(Token, ("alice", PasswordHashing.Hash("second long password"))).IsCurrent(principal), "the password changed");
        Assert.False(Users(Token).IsCurrent(principal), "the user was removed");
        Assert.True(Users(Token).IsCurrent(tokenPrincipal));
        Assert.False(Users("another-token-long-enough-0123456789-0123").IsCurrent(tokenPrincipal), "the token changed");
    }

    [Fact]
    public void Hash_password_reads_a_redirected_password_and_prints_only_the_hash_on_standard_output()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var exit = HashPasswordCommand.Run(["hash-password", "alice"], new StringReader("a long enough password\n"), output, error, readHidden: null);

        Assert.Equal(0, exit);
        var hash = output.ToString().Trim();
        Assert.True(PasswordHashing.Verify(hash, "a long enough password"));
        Assert.Contains($"PortDashboard__Auth__Users__alice='{hash}'", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Hash_password_refuses_a_short_password_and_two_different_typed_ones()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        Assert.Equal(1, HashPasswordCommand.Run(["hash-password"], new StringReader("short\n"), output, error, null));
        var typed = new Queue<string>(["first long password", "second long password"]);
        Assert.Equal(1, HashPasswordCommand.Run(["hash-password"], TextReader.Null, output, error, _ => typed.Dequeue()));
        Assert.Equal(2, HashPasswordCommand.Run(["hash-password", "--user"], TextReader.Null, output, error, null));

        Assert.Empty(output.ToString());
        Assert.Contains("at least 12 characters", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("The two passwords differ", error.ToString(), StringComparison.Ordinal);
    }
}
