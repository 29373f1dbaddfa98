using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using PortDashboard.Hosting;
using PortDashboard.Security;

namespace PortDashboard.Tests.Security;

/// <summary>Safe by default: loopback needs nothing; any other address needs credentials or an explicit opt-out.</summary>
public sealed class ExposureTests
{
    private const string GoodToken = "a-token-long-enough-0123456789-0123456789";

    private static IConfiguration Configuration(params (string Key, string? Value)[] settings) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();

    private static IReadOnlyList<string> Errors(IConfiguration configuration)
    {
        var options = new AuthOptions();
        options.Bind(configuration.GetSection(AuthOptions.SectionName));
        return new AuthOptionsValidator(configuration).Validate(null, options) is { Failed: true } result ? [.. result.Failures!] : [];
    }

    [Theory]
    [InlineData("http://127.0.0.1:5000", true)]
    [InlineData("http://127.0.0.2:8080", true)]
    [InlineData("http://localhost:5000", true)]
    [InlineData("http://LOCALHOST:5000/", true)]
    [InlineData("http://[::1]:5000", true)]
    [InlineData("https://[::1]", true)]
    [InlineData("http://0.0.0.0:5000", false)]
    [InlineData("http://*:5000", false)]
    [InlineData("http://+:80", false)]
    [InlineData("http://[::]:5000", false)]
    [InlineData("http://192.168.1.10:5000", false)]
    [InlineData("http://dashboard.example:5000", false)]
    public void Only_loopback_addresses_count_as_unexposed(string address, bool loopback) =>
        Assert.Equal(loopback, Exposure.IsLoopback(address));

    [Fact]
    public void The_listen_addresses_come_from_kestrel_endpoints_then_urls_then_ports_then_kestrels_default()
    {
        Assert.Equal(["http://0.0.0.0:1"], Exposure.ConfiguredAddresses(Configuration(("Kestrel:Endpoints:Web:Url", "http://0.0.0.0:1"), ("urls", "http://127.0.0.1:2"))));
        Assert.Equal(["http://127.0.0.1:2", "http://[::1]:3"], Exposure.ConfiguredAddresses(Configuration(("urls", "http://127.0.0.1:2; http://[::1]:3"))));
        Assert.Equal(["http://*:8080"], Exposure.ConfiguredAddresses(Configuration(("urls", ""), ("http_ports", "8080"))));
        Assert.Equal(["http://localhost:5000"], Exposure.ConfiguredAddresses(Configuration()));
    }

    [Fact]
    public void Listening_beyond_loopback_without_credentials_is_refused_with_what_to_configure()
    {
        var error = Assert.Single(Errors(Configuration(("urls", "http://127.0.0.1:5000;http://0.0.0.0:5000"))));

        Assert.StartsWith("PortDashboard would listen on http://0.0.0.0:5000, which other machines can reach, but no credentials are configured", error, StringComparison.Ordinal);
        Assert.Contains("PortDashboard:Auth:Token", error, StringComparison.Ordinal);
        Assert.Contains("PortDashboard:Auth:Users:<name>", error, StringComparison.Ordinal);
        Assert.Contains("PortDashboard:Auth:AllowAnonymousRemote=true", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_image_port_variable_counts_as_exposed_too() =>
        Assert.Single(Errors(Configuration(("urls", null), ("http_ports", "8080"))));

    [Fact]
    public void Credentials_or_the_explicit_opt_out_allow_listening_beyond_loopback()
    {
        Assert.Empty(Errors(Configuration(("urls", "http://0.0.0.0:5000"), ("PortDashboard:Auth:Token", GoodToken))));
        Assert.Empty(Errors(Configuration(("urls", "http://0.0.0.0:5000"), ("PortDashboard:Auth:Users:alice", PasswordHashing.Hash("a long enough password")))));
        Assert.Empty(Errors(Configuration(("urls", "http://0.0.0.0:5000"), ("PortDashboard:Auth:AllowAnonymousRemote", "true"))));
        Assert.Empty(Errors(Configuration(("urls", "http://127.0.0.1:5000"))));
    }

    [Fact]
    public void Weak_or_malformed_credentials_are_reported_each_with_its_key()
    {
        var errors = Errors(Configuration(
            ("PortDashboard:Auth:Token", "short"),
            ("PortDashboard:Auth:Users:bob", "hunter2"),
            ("PortDashboard:Auth:AllowAnonymousRemote", "maybe"),
            ("PortDashboard:Auth:LoginAttemptsPerMinute", "0")));

        Assert.Equal(4, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("PortDashboard:Auth:Token is 5 characters long; use at least 32 random characters", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("PortDashboard:Auth:Users:bob is not a password hash; make one with `dotnet PortDashboard.dll hash-password`", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("PortDashboard:Auth:AllowAnonymousRemote is 'maybe'; expected true or false", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("PortDashboard:Auth:LoginAttemptsPerMinute is 0; it must be from 1 to 1000", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_app_asked_to_listen_on_every_interface_without_credentials_stops_before_it_binds()
    {
        var builder = WebApplication.CreateBuilder(PortDashboardHosting.Options(["--urls=http://0.0.0.0:0"]));
        builder.AddPortDashboard();
        await using var app = builder.Build();
        app.MapPortDashboard();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("would listen on http://0.0.0.0:0, which other machines can reach", Assert.Single(error.Failures), StringComparison.Ordinal);
        Assert.Empty(app.Urls); // nothing was bound
    }
}
