using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PortDashboard.Core.Reading;
using PortDashboard.Tests.Support;

namespace PortDashboard.Tests.Api;

/// <summary>/healthz against a socket table that stops answering (a fake reader in the real app).</summary>
public sealed class HealthzTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private static async Task<(HttpStatusCode Status, JsonElement Body)> GetHealth(HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("/healthz", UriKind.Relative), Cancellation);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation));
        return (response.StatusCode, body.RootElement.Clone());
    }

    private static async Task<JsonElement> WaitForUnhealthy(HttpClient client)
    {
        JsonElement body = default;
        await Eventually.WaitUntil(async () =>
        {
            (var status, body) = await GetHealth(client);
            return status == HttpStatusCode.ServiceUnavailable;
        }, "/healthz answers 503");
        return body;
    }

    [Fact]
    public async Task Healthz_is_unhealthy_when_no_snapshot_arrives_within_five_poll_intervals()
    {
        var reader = new FakeSocketTableReader { FailWhen = _ => true };
        await using var factory = new PortDashboardFactory(services: s => s.AddSingleton<ISocketTableReader>(reader));
        using var client = new HttpClient { BaseAddress = factory.Start() };

        var body = await WaitForUnhealthy(client);

        Assert.Equal("Unhealthy", body.GetProperty("status").GetString());
        var description = body.GetProperty("description").GetString();
        Assert.StartsWith("no snapshot yet", description, StringComparison.Ordinal);
        Assert.Contains(FakeSocketTableReader.FailureMessage, description, StringComparison.Ordinal);
        Assert.Equal(FakeSocketTableReader.FailureMessage, body.GetProperty("lastError").GetString());
        Assert.True(body.GetProperty("consecutiveFailures").GetInt32() >= 2);
    }

    [Fact]
    public async Task Healthz_turns_unhealthy_when_the_last_snapshot_grows_stale_and_healthy_again_when_reads_recover()
    {
        var failing = false;
        var reader = new FakeSocketTableReader { FailWhen = _ => Volatile.Read(ref failing) };
        await using var factory = new PortDashboardFactory(services: s => s.AddSingleton<ISocketTableReader>(reader));
        using var client = new HttpClient { BaseAddress = factory.Start() };
        await Eventually.WaitUntil(async () => (await GetHealth(client)).Status == HttpStatusCode.OK
            && (await GetHealth(client)).Body.GetProperty("status").GetString() == "Healthy"
            && reader.Calls > 0, "/healthz is healthy");

        Volatile.Write(ref failing, true);
        var body = await WaitForUnhealthy(client);

        var description = body.GetProperty("description").GetString();
        Assert.Contains("older than 5 poll intervals", description, StringComparison.Ordinal);
        Assert.Contains(FakeSocketTableReader.FailureMessage, description, StringComparison.Ordinal);
        Assert.True(body.TryGetProperty("lastSuccessAt", out _));

        Volatile.Write(ref failing, false);
        await Eventually.WaitUntil(async () => (await GetHealth(client)).Status == HttpStatusCode.OK, "/healthz recovers once reads work again");
    }
}
