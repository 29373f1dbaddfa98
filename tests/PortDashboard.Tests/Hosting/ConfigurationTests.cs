using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using PortDashboard.Core.Reading.Namespaces;
using PortDashboard.Hosting;

namespace PortDashboard.Tests.Hosting;

public sealed class ConfigurationTests
{
    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "PortDashboard.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("PortDashboard.sln not found above " + AppContext.BaseDirectory);
    }

    private static PortDashboardOptions Bind(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>("PortDashboard:" + s.Key, s.Value)))
            .Build();
        var options = new PortDashboardOptions();
        options.Bind(configuration.GetSection(PortDashboardOptions.SectionName));
        return options;
    }

    private static IReadOnlyList<string> Errors(PortDashboardOptions options) =>
        new PortDashboardOptionsValidator().Validate(null, options) is { Failed: true } result ? [.. result.Failures!] : [];

    [Fact]
    public void The_top_level_appsettings_holds_the_documented_defaults_and_ships_with_the_app()
    {
        var root = RepositoryRoot();
        var path = Path.Combine(root, "appsettings.json");
        var configuration = new ConfigurationBuilder().AddJsonFile(path).Build();
        var options = new PortDashboardOptions();
        options.Bind(configuration.GetSection(PortDashboardOptions.SectionName));

        var defaults = new PortDashboardOptions();
        Assert.Equal(
            (defaults.ProcRoot, defaults.PollInterval, defaults.AttributeOwners, defaults.FullAttributionInterval, defaults.ShowCommandLine, defaults.MinimumBatchInterval, defaults.DeltaHistory, defaults.DeltaHistoryChanges, defaults.SubscriberBacklog, defaults.LogFormat),
            (options.ProcRoot, options.PollInterval, options.AttributeOwners, options.FullAttributionInterval, options.ShowCommandLine, options.MinimumBatchInterval, options.DeltaHistory, options.DeltaHistoryChanges, options.SubscriberBacklog, options.LogFormat));
        Assert.Empty(Errors(options));
        Assert.Equal("http://127.0.0.1:5000", configuration["Urls"]);

        var readme = File.ReadAllText(Path.Combine(root, "README.md"));
        foreach (var key in configuration.GetSection(PortDashboardOptions.SectionName).GetChildren().Select(c => c.Path).Append("Urls"))
        {
            Assert.Contains($"`{key}`", readme, StringComparison.Ordinal);
        }

        // The build copies the very same file beside the app (and so beside these tests).
        Assert.Equal(File.ReadAllText(path), File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "appsettings.json")));
    }

    [Theory]
    [InlineData("00:00:00.099")]
    [InlineData("00:01:00.001")]
    [InlineData("-00:00:01")]
    public void A_poll_interval_out_of_range_is_reported_with_its_key_and_the_allowed_range(string value)
    {
        var error = Assert.Single(Errors(Bind(("PollInterval", value))));

        Assert.StartsWith("PortDashboard:PollInterval is ", error, StringComparison.Ordinal);
        Assert.Contains("from 100 ms to 60 s", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00:00:00.1")]
    [InlineData("00:01:00")]
    public void The_limits_of_the_poll_interval_are_allowed(string value) =>
        Assert.Empty(Errors(Bind(("PollInterval", value))));

    [Theory]
    [InlineData("FullAttributionInterval", "-00:00:01", "PortDashboard:FullAttributionInterval is -00:00:01; it must be from 0 (every poll) to 1 h")]
    [InlineData("FullAttributionInterval", "01:00:01", "PortDashboard:FullAttributionInterval is 01:00:01; it must be from 0 (every poll) to 1 h")]
    [InlineData("FullAttributionInterval", "often", "PortDashboard:FullAttributionInterval is 'often', which is not a time span")]
    [InlineData("DeltaHistoryChanges", "999", "PortDashboard:DeltaHistoryChanges is 999; it must be from 1000 to 10000000")]
    [InlineData("DeltaHistoryChanges", "10000001", "PortDashboard:DeltaHistoryChanges is 10000001; it must be from 1000 to 10000000")]
    public void Attribution_and_history_bounds_outside_their_range_are_refused(string key, string value, string message) =>
        Assert.Contains(Errors(Bind((key, value))), e => e.StartsWith(message, StringComparison.Ordinal));

    [Theory]
    [InlineData("FullAttributionInterval", "00:00:00")]
    [InlineData("FullAttributionInterval", "01:00:00")]
    [InlineData("DeltaHistoryChanges", "1000")]
    [InlineData("DeltaHistoryChanges", "10000000")]
    public void Attribution_and_history_bounds_at_their_limits_are_allowed(string key, string value) =>
        Assert.Empty(Errors(Bind((key, value))));

    [Fact]
    public void Values_that_do_not_parse_are_reported_each_with_its_key()
    {
        var errors = Errors(Bind(("PollInterval", "soon"), ("AttributeOwners", "yes"), ("DeltaHistory", "many"), ("SubscriberBacklog", "0")));

        Assert.Equal(4, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("PortDashboard:PollInterval is 'soon', which is not a time span", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("PortDashboard:AttributeOwners is 'yes'; expected true or false", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("PortDashboard:DeltaHistory is 'many'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("PortDashboard:SubscriberBacklog is 0; it must be from 1", StringComparison.Ordinal));
    }

    [Fact]
    public void Namespace_reading_is_off_by_default_and_its_reader_is_one_of_three()
    {
        var defaults = Bind();
        Assert.Equal((false, NamespaceReaderKind.Auto), (defaults.NamespacesEnabled, defaults.NamespaceReader));
        var chosen = Bind(("Namespaces:Enabled", "true"), ("Namespaces:Reader", "Proc-Net"));
        Assert.Equal((true, NamespaceReaderKind.ProcNet), (chosen.NamespacesEnabled, chosen.NamespaceReader));
        Assert.Empty(Errors(chosen));

        var errors = Errors(Bind(("Namespaces:Enabled", "maybe"), ("Namespaces:Reader", "setns"), ("Namespaces:Interval", "00:01:01")));
        Assert.Equal(3, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("PortDashboard:Namespaces:Interval is 00:01:01; it must be from 0 (every poll) to 1 min", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("PortDashboard:Namespaces:Enabled is 'maybe'; expected true or false", StringComparison.Ordinal));
        Assert.Contains("PortDashboard:Namespaces:Reader is 'setns'; expected auto, netlink or proc-net", errors);
    }

    [Theory]
    [InlineData("text", true)]
    [InlineData("JSON", true)]
    [InlineData("xml", false)]
    public void The_log_format_is_text_or_json(string value, bool valid)
    {
        var errors = Errors(Bind(("LogFormat", value)));

        Assert.Equal(valid, errors.Count == 0);
        if (!valid)
        {
            Assert.Equal($"PortDashboard:LogFormat is '{value}'; expected text or json", Assert.Single(errors));
        }
    }

    [Fact]
    public async Task An_invalid_poll_interval_stops_the_app_at_start_up()
    {
        var builder = WebApplication.CreateBuilder(PortDashboardHosting.Options(
            ["--urls=http://127.0.0.1:0", "--PortDashboard:PollInterval=00:00:00.050"]));
        builder.AddPortDashboard();
        await using var app = builder.Build();
        app.MapPortDashboard();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync(TestContext.Current.CancellationToken));

        var failure = Assert.Single(error.Failures);
        Assert.StartsWith("PortDashboard:PollInterval is 00:00:00.0500000", failure, StringComparison.Ordinal);
        Assert.Contains("from 100 ms to 60 s", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unusable_reverse_dns_setting_stops_the_app_at_start_up_naming_the_key()
    {
        var builder = WebApplication.CreateBuilder(PortDashboardHosting.Options(
            ["--urls=http://127.0.0.1:0", "--PortDashboard:ReverseDns:MaxConcurrent=0"]));
        builder.AddPortDashboard();
        await using var app = builder.Build();
        app.MapPortDashboard();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync(TestContext.Current.CancellationToken));

        Assert.Equal("PortDashboard:ReverseDns:MaxConcurrent must be between 1 and 64", Assert.Single(error.Failures));
    }
}
