using System.Net;
using System.Text.Json;
using PortDashboard.Tests.Insight.Support;

namespace PortDashboard.Tests.Insight;

/// <summary>/api/history and /api/ephemeral on the real app.</summary>
public sealed class InsightApiTests : IAsyncLifetime
{
    private InsightApp _app = null!;

    public ValueTask InitializeAsync()
    {
        _app = new InsightApp();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    [Theory]
    [InlineData("from=yesterday", "from", "ISO 8601")]
    [InlineData("to=12", "to", "ISO 8601")]
    [InlineData("from=-1h&to=-2h", "from", "after to")]
    [InlineData("limit=0", "limit", "from 1 to 100000")]
    [InlineData("limit=lots", "limit", "whole number")]
    [InlineData("port=99999", "port", "port")]
    [InlineData("colour=red", "colour", "unknown filter parameter")]
    public async Task A_bad_parameter_answers_400_with_problem_details_naming_it(string query, string parameter, string detail)
    {
        using var response = await _app.Client.GetAsync(new Uri("/api/history?" + query, UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal(parameter, problem.RootElement.GetProperty("parameter").GetString());
        Assert.Contains(detail, problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_history_answers_the_window_and_canonical_filter_it_used()
    {
        using var listener = new InsightApp.Listener();
        var json = await _app.GetJsonAsync($"/api/history?from=-5m&to=now&port={listener.Port}&range=ephemeral,registered&limit=50");

        var from = json.GetProperty("from").GetDateTimeOffset();
        var to = json.GetProperty("to").GetDateTimeOffset();
        Assert.Equal(TimeSpan.FromMinutes(5), to - from);
        Assert.Equal($"range=registered,ephemeral&port={listener.Port}", json.GetProperty("filter").GetString());
        Assert.Equal(json.GetProperty("events").GetArrayLength(), json.GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task The_ephemeral_report_names_the_range_and_the_thresholds()
    {
        await _app.WaitForBatchesAsync(1, "a poll");

        var json = await _app.GetJsonAsync("/api/ephemeral");

        var first = json.GetProperty("ephemeralFirst").GetInt32();
        var last = json.GetProperty("ephemeralLast").GetInt32();
        Assert.Equal(last - first + 1, json.GetProperty("rangeSize").GetInt32());
        Assert.Equal(0.7, json.GetProperty("warningAt").GetDouble(), precision: 6);
        Assert.Equal(0.9, json.GetProperty("criticalAt").GetDouble(), precision: 6);
        Assert.Matches("^(normal|warning|critical)$", json.GetProperty("level").GetString());
        Assert.True(json.GetProperty("shortLivedCaptured").GetBoolean(), "root has CAP_NET_ADMIN");
    }
}
