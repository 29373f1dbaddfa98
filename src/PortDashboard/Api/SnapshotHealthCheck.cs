using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using PortDashboard.Monitoring;

namespace PortDashboard.Api;

/// <summary>
/// <c>/healthz</c>: healthy while snapshots are fresh; unhealthy (503) when the last good snapshot is older than
/// <see cref="StaleAfterIntervals"/> poll intervals, or when there is none that long after the service started.
/// Degraded (still 200) while reads fail but the last snapshot is recent. The body says why.
/// </summary>
public sealed class SnapshotHealthCheck(SnapshotFeed feed, TimeProvider time) : IHealthCheck
{
    public const string Path = "/healthz";

    public const string Name = "snapshots";

    public const int StaleAfterIntervals = 5;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = feed.Status;
        var now = time.GetUtcNow();
        var limit = status.PollInterval * StaleAfterIntervals;
        var failing = status.IsFailing
            ? $"; reads are failing ({status.ConsecutiveFailures} in a row): {status.LastError}"
            : "";
        var data = new Dictionary<string, object>
        {
            ["sequence"] = feed.Sequence,
            ["pollInterval"] = status.PollInterval.ToString("c"),
            ["consecutiveFailures"] = status.ConsecutiveFailures,
        };
        if (status.LastSuccessAt is { } lastSuccess)
        {
            data["lastSuccessAt"] = lastSuccess;
        }

        if (status.LastError is { } lastError)
        {
            data["lastError"] = lastError;
        }

        HealthCheckResult result;
        if (status.LastSuccessAt is { } last)
        {
            var age = now > last ? now - last : TimeSpan.Zero; // a wall clock set back makes no negative age
            result = age > limit
                ? HealthCheckResult.Unhealthy($"the last snapshot is {Seconds(age)} old, older than {StaleAfterIntervals} poll intervals ({Seconds(limit)}){failing}", data: data)
                : status.IsFailing
                    ? HealthCheckResult.Degraded($"the last snapshot is {Seconds(age)} old{failing}", data: data)
                    : HealthCheckResult.Healthy($"the last snapshot is {Seconds(age)} old", data);
        }
        else if (feed.StartedAt is not { } started)
        {
            result = HealthCheckResult.Unhealthy("the snapshot service has not started", data: data);
        }
        else
        {
            var waited = now > started ? now - started : TimeSpan.Zero;
            result = waited > limit
                ? HealthCheckResult.Unhealthy($"no snapshot yet, {Seconds(waited)} after start (more than {StaleAfterIntervals} poll intervals){failing}", data: data)
                : HealthCheckResult.Healthy($"starting: waiting for the first snapshot{failing}", data);
        }

        return Task.FromResult(result);
    }

    /// <summary>The /healthz endpoint options: 200 for healthy and degraded, 503 for unhealthy; a small JSON body.</summary>
    public static HealthCheckOptions EndpointOptions { get; } = new()
    {
        ResponseWriter = WriteResponseAsync,
    };

    private static string Seconds(TimeSpan span) => $"{span.TotalSeconds:0.0} s";

    private static Task WriteResponseAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        var body = new Dictionary<string, object?> { ["status"] = report.Status.ToString() };
        foreach (var (name, entry) in report.Entries)
        {
            if (name == Name)
            {
                body["description"] = entry.Description;
                foreach (var (key, value) in entry.Data)
                {
                    body[key] = value;
                }
            }
            else
            {
                body[name] = new { status = entry.Status.ToString(), description = entry.Description };
            }
        }

        return context.Response.WriteAsync(JsonSerializer.Serialize(body, JsonSerializerOptions.Web));
    }
}
