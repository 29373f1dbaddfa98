using System.Net;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PortDashboard.Hubs;
using PortDashboard.Security;
using PortDashboard.Tests.Support;

namespace PortDashboard.Tests.Security;

/// <summary>Limits answer with a clear refusal: hub connections, request bodies, URL and header sizes.</summary>
public sealed class LimitsTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private static List<string> HubSendTimeoutErrors(string value)
    {
        var section = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [$"{LimitsOptions.SectionName}:HubSendTimeout"] = value })
            .Build()
            .GetSection(LimitsOptions.SectionName);
        var options = new LimitsOptions();
        options.Bind(section);
        return new LimitsOptionsValidator().Validate(null, options).Failures?.ToList() ?? [];
    }

    [Theory]
    [InlineData("00:00:00.999", "PortDashboard:Limits:HubSendTimeout is 00:00:00.9990000; it must be from 00:00:01 to 01:00:00")]
    [InlineData("01:00:01", "PortDashboard:Limits:HubSendTimeout is 01:00:01; it must be from 00:00:01 to 01:00:00")]
    [InlineData("a while", "PortDashboard:Limits:HubSendTimeout is 'a while', which is not a time span")]
    public void A_hub_send_timeout_outside_its_range_is_refused_with_its_key(string value, string message) =>
        Assert.Contains(HubSendTimeoutErrors(value), e => e.StartsWith(message, StringComparison.Ordinal));

    [Theory]
    [InlineData("00:00:01")]
    [InlineData("00:00:10")]
    [InlineData("01:00:00")]
    public void A_hub_send_timeout_within_its_range_is_allowed(string value) => Assert.Empty(HubSendTimeoutErrors(value));

    [Fact]
    public async Task A_hub_connection_beyond_the_limit_is_closed_with_the_reason_and_a_freed_place_is_reused()
    {
        await using var factory = new PortDashboardFactory(new Dictionary<string, string?> { ["PortDashboard:Limits:HubConnections"] = "2" });
        var baseAddress = factory.Start();
        HubConnection Connect() => new HubConnectionBuilder().WithUrl(new Uri(baseAddress, SocketsHub.Path)).Build();
        await using var first = Connect();
        await using var second = Connect();
        await first.StartAsync(Cancellation);
        await second.StartAsync(Cancellation);

        await using var third = Connect();
        var closed = new TaskCompletionSource<Exception?>();
        third.Closed += e =>
        {
            closed.TrySetResult(e);
            return Task.CompletedTask;
        };
        Exception? refusal;
        try
        {
            await third.StartAsync(Cancellation);
            refusal = await Eventually.Within(closed.Task, "the third connection to be closed");
        }
        catch (Exception e) when (e is HubException or InvalidOperationException)
        {
            refusal = e; // refused during the handshake
        }

        Assert.NotNull(refusal);
        Assert.Contains("too many connections: this server takes at most 2 hub connections at once", refusal.Message, StringComparison.Ordinal);
        Assert.Equal(2, factory.Services.GetRequiredService<HubConnectionLimit>().Open);

        await first.StopAsync(Cancellation);
        await Eventually.WaitUntil(() => factory.Services.GetRequiredService<HubConnectionLimit>().Open == 1, "the first connection's place to be freed");
        await using var fourth = Connect();
        await fourth.StartAsync(Cancellation);
        Assert.Equal("proto=udp", await fourth.InvokeAsync<string>("Subscribe", "proto=udp", Cancellation));
    }

    [Fact]
    public async Task A_request_body_over_the_limit_is_refused_with_413()
    {
        await using var app = new SecuredApp(loginAttemptsPerMinute: 100, new Dictionary<string, string?> { ["PortDashboard:Limits:RequestBodyBytes"] = "65536" });
        await app.InitializeAsync();
        var (browser, _) = app.NewBrowser();
        using var _browser = browser;
        var token = await SecuredApp.AntiforgeryToken(browser);
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["Password"] = new string('x', 100_000),
        });

        using var response = await browser.PostAsync(new Uri("/login", UriKind.Relative), form, Cancellation);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("The form is larger than this server accepts.", await response.Content.ReadAsStringAsync(Cancellation), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_over_long_url_or_header_is_refused_by_kestrel_with_414_or_431()
    {
        await using var factory = new PortDashboardFactory();
        using var client = new HttpClient { BaseAddress = factory.Start() };

        using var longUrl = await client.GetAsync(new Uri("/api/snapshot?q=" + new string('a', 10_000), UriKind.Relative), Cancellation);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/snapshot", UriKind.Relative));
        request.Headers.Add("X-Padding", new string('b', 40_000));
        using var longHeader = await client.SendAsync(request, Cancellation);

        Assert.Equal(HttpStatusCode.RequestUriTooLong, longUrl.StatusCode);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, longHeader.StatusCode);
    }
}
