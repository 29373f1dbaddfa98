using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using PortDashboard.Core.Filtering;
using PortDashboard.Hubs;
using PortDashboard.Tests.Support;

namespace PortDashboard.Tests.Resilience;

/// <summary>
/// Malformed input on every surface gets a clear refusal (a 4xx with what was wrong, or a HubException) and never a
/// 500; the app and the connection stay usable afterwards.
/// </summary>
public sealed class MalformedInputTests(WebHostFixture host) : IClassFixture<WebHostFixture>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public static TheoryData<string, string, int, string> HttpCases => new()
    {
        { "GET", "/api/snapshot?range=bogus", 400, "unknown range 'bogus'" },
        { "GET", "/api/snapshot?port=70000", 400, "port" },
        { "GET", "/api/snapshot?port=9-1", 400, "port" },
        { "GET", "/api/snapshot?address=10.0.0.0/99", 400, "address" },
        { "GET", "/api/snapshot?q=a&q=b", 400, "given twice" },
        { "GET", "/api/snapshot?q=%C3%28", 400, "not UTF-8" },
        { "GET", "/api/snapshot?colour=red", 400, "unknown filter parameter 'colour'" },
        { "GET", "/api/snapshot.csv?proto=sctp", 400, "unknown proto 'sctp'" },
        { "GET", "/api/snapshot?q=" + new string('x', Filter.MaxQueryLength + 10), 400, $"longer than {Filter.MaxQueryLength} characters" },
        { "POST", "/api/snapshot", 405, "" },
        { "DELETE", "/api/snapshot.csv", 405, "" },
        { "GET", "/api/no-such-thing", 404, "" },
        { "GET", SocketsHub.Path, 400, "" }, // a hub request that is neither negotiate nor a WebSocket
    };

    [Theory]
    [MemberData(nameof(HttpCases))]
    public async Task Malformed_http_requests_get_a_4xx_that_says_what_is_wrong(string method, string path, int status, string reason)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative));
        if (method == "POST")
        {
            request.Content = new StringContent("{\"not\":\"a form\"}", System.Text.Encoding.UTF8, "application/json");
        }

        using var response = await host.Client.SendAsync(request, Cancellation);
        var body = await response.Content.ReadAsStringAsync(Cancellation);

        Assert.True(status == (int)response.StatusCode, $"{method} {path}: expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Contains(reason, body, StringComparison.Ordinal);
        if (path.StartsWith("/api", StringComparison.Ordinal))
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(status, JsonDocument.Parse(body).RootElement.GetProperty("status").GetInt32());
        }
    }

    [Fact]
    public async Task Hub_calls_with_wrong_arguments_fail_with_a_hub_exception_and_the_connection_stays_usable()
    {
        await using var hub = new HubConnectionBuilder().WithUrl(new Uri(host.BaseAddress, SocketsHub.Path)).Build();
        await hub.StartAsync(Cancellation);

        var badFilter = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync<string>("Subscribe", "range=bogus", Cancellation));
        Assert.Contains("unknown range 'bogus'", badFilter.Message, StringComparison.Ordinal);

        var tooLong = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync<string>("Subscribe", "q=" + new string('x', Filter.MaxQueryLength), Cancellation));
        Assert.Contains($"longer than {Filter.MaxQueryLength} characters", tooLong.Message, StringComparison.Ordinal);

        var wrongType = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync<string>("Subscribe", 42, Cancellation));
        Assert.Contains("Error binding arguments. Make sure that the types of the provided values match", wrongType.Message, StringComparison.Ordinal);

        var wrongCount = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync<string>("Subscribe", "proto=tcp", "extra", Cancellation));
        Assert.Contains("Invocation provides 2 argument(s) but target expects 1", wrongCount.Message, StringComparison.Ordinal);

        var unknown = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync<string>("CloseSocket", 22, Cancellation));
        Assert.Contains("Method does not exist", unknown.Message, StringComparison.Ordinal);

        Assert.Equal(HubConnectionState.Connected, hub.State);
        Assert.Equal("proto=tcp", await hub.InvokeAsync<string>("Subscribe", "proto=tcp", Cancellation));
    }

    [Fact]
    public async Task A_hub_message_over_the_size_limit_closes_that_connection_with_the_reason_and_nothing_else()
    {
        await using var hub = new HubConnectionBuilder().WithUrl(new Uri(host.BaseAddress, SocketsHub.Path)).Build();
        var closed = new TaskCompletionSource<Exception?>();
        hub.Closed += e =>
        {
            closed.TrySetResult(e);
            return Task.CompletedTask;
        };
        await hub.StartAsync(Cancellation);

        // The invocation's completion never comes: the server closes the connection as it reads the message.
        _ = hub.InvokeAsync<string>("Subscribe", new string('x', 64 * 1024), Cancellation);
        var reason = await Eventually.Within(closed.Task, "the oversized message to close the connection");

        Assert.NotNull(reason);
        Assert.Contains("maximum message size of 32768B was exceeded", reason.Message, StringComparison.Ordinal);
        using var health = await host.Client.GetAsync(new Uri("/api/snapshot?proto=udp", UriKind.Relative), Cancellation);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }
}
