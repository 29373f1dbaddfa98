using Microsoft.AspNetCore.Http.HttpResults;
using PortDashboard.Core.Filtering;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Pressure;
using PortDashboard.Core.Sockets;
using PortDashboard.Insight.History;
using PortDashboard.Insight.ShortLived;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Insight;

/// <summary>
/// <c>GET /api/history?from=&amp;to=&amp;limit=</c> plus the filter of <c>/api/snapshot</c>: socket births and deaths,
/// short-lived ones included, oldest first. <c>GET /api/ephemeral</c>: the ephemeral port pressure now. A bad
/// parameter answers 400 with problem details whose <c>parameter</c> names it.
/// </summary>
public static class InsightApi
{
    public const int DefaultLimit = 10_000;
    public const int MaxLimit = 100_000;

    public static IEndpointRouteBuilder MapInsightApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api");
        api.MapGet("/history", GetHistoryAsync).WithName("GetHistory");
        api.MapGet("/ephemeral", GetEphemeral).WithName("GetEphemeral");
        return endpoints;
    }

    internal static async Task<Results<Ok<HistoryMessage>, ProblemHttpResult>> GetHistoryAsync(
        HttpRequest request, InsightState state, ServiceNameRegistry services, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!HistoryQuery.TryParse(request.QueryString.Value, request.Query, time.GetUtcNow(), out var query, out var bad))
        {
            return Problem(bad.Title, bad.Parameter, bad.Detail);
        }

        var (filter, from, to, limit) = query;
        if (state.Store is not { } store)
        {
            var reason = state.History.Enabled ? state.History.Error ?? "the history database is not open yet" : "history is off (PortDashboard:History:Enabled is false)";
            return TypedResults.Problem(title: "History unavailable", detail: reason, statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        // An event per birth and per death in [from, to); a row can give both.
        HistoryPage page;
        try
        {
            page = await store.ChangedBetweenAsync(from, to, filter, services, state.Pressure.Policy, limit, cancellationToken);
        }
        catch (Microsoft.Data.Sqlite.SqliteException e)
        {
            // The file deleted, damaged or unreadable while running: say so; the live views go on.
            return TypedResults.Problem(title: "History unavailable", detail: $"reading {store.Path} failed: {e.Message}", statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        var events = new List<HistoryEventDto>();
        foreach (var row in page.Rows)
        {
            var socket = SocketOf(row);
            if (row.Kind == HistoryKind.ShortLived)
            {
                events.Add(new HistoryEventDto(row.BornAt, "short-lived", socket, row.BornAt, row.DiedAt, null, false, false, OwnerSourceText(row.OwnerSource)));
                continue;
            }

            if (row.BornAt >= from && row.BornAt < to)
            {
                events.Add(new HistoryEventDto(row.BornAt, "opened", socket, row.BornAt, row.DiedAt, Milliseconds(row.Lifetime), row.Kind == HistoryKind.OpenAtStart, row.DiedUnwatched, OwnerSourceText(row.OwnerSource)));
            }

            if (row.DiedAt is { } died && died >= from && died < to)
            {
                events.Add(new HistoryEventDto(died, "closed", socket with { State = (row.FinalState ?? row.Socket.State).ToQueryValue() }, row.BornAt, died, Milliseconds(row.Lifetime), row.Kind == HistoryKind.OpenAtStart, row.DiedUnwatched, OwnerSourceText(row.OwnerSource)));
            }
        }

        events.Sort(static (a, b) => a.At.CompareTo(b.At));
        var truncated = page.Truncated || events.Count > limit;
        if (events.Count > limit)
        {
            events.RemoveRange(limit, events.Count - limit);
        }

        var health = state.WriteHealth;
        return TypedResults.Ok(new HistoryMessage(from, to, filter.ToQueryString(), events.Count, truncated, events, health.Error, health.Dropped));
    }

    internal static Ok<EphemeralMessage> GetEphemeral(InsightState state)
    {
        var view = state.Pressure;
        var report = view.Report;
        return TypedResults.Ok(new EphemeralMessage(
            view.At,
            view.Policy.EphemeralFirst,
            view.Policy.EphemeralLast,
            report.RangeSize,
            report.TcpPortsInUse,
            report.UdpPortsInUse,
            report.TcpTimeWait,
            report.TimeWaitShare,
            LevelText(report.Level),
            view.Thresholds.Warning,
            view.Thresholds.Critical,
            state.ShortLived.Status.IsCapturing,
            state.ShortLived.Status.Reason,
            [.. report.Destinations.Select(d => new DestinationDto(
                d.Destination.Protocol.ToQueryValue(),
                Address(d.Destination.LocalAddress),
                new HistoryEndpointDto(Address(d.Destination.Remote.Address), d.Destination.Remote.Port),
                d.PortsInUse,
                d.TimeWait,
                d.Utilization,
                d.OpeningRatePerSecond,
                d.TimeToExhaustion?.TotalSeconds,
                LevelText(d.Level)))]));
    }

    private static ProblemHttpResult Problem(string title, string parameter, string detail) =>
        TypedResults.Problem(
            title: title,
            detail: detail,
            statusCode: StatusCodes.Status400BadRequest,
            extensions: new Dictionary<string, object?> { ["parameter"] = parameter });

    private static HistorySocketDto SocketOf(HistoryRow row)
    {
        Socket s = row.Socket;
        return new HistorySocketDto(
            s.Protocol.ToQueryValue(),
            s.Family == IpVersion.IPv4 ? "ipv4" : "ipv6",
            new HistoryEndpointDto(Address(s.Local.Address), s.Local.Port),
            new HistoryEndpointDto(Address(s.Remote.Address), s.Remote.Port),
            s.State.ToQueryValue(),
            s.Inode,
            s.Uid,
            [.. s.Owners.Select(o => new HistoryOwnerDto(o.Pid, o.Name, o.UserName))]);
    }

    private static string Address(NetAddress address) => address.IsWildcard ? "*" : address.ToString();

    private static long? Milliseconds(TimeSpan? span) => span is { } s ? (long)s.TotalMilliseconds : null;

    private static string? OwnerSourceText(OwnerSource source) => source switch
    {
        OwnerSource.Seen => "seen",
        OwnerSource.Listener => "listener",
        OwnerSource.SameDestination => "same-destination",
        _ => null,
    };

    internal static string LevelText(PressureLevel level) => level.ToString().ToLowerInvariant();
}

/// <summary>An endpoint in the history API: address (<c>*</c> for a wildcard) and port.</summary>
public sealed record HistoryEndpointDto(string Address, int Port);

/// <summary>A process that held a socket.</summary>
public sealed record HistoryOwnerDto(int Pid, string Name, string User);

/// <summary>A socket in the history API (its state at the event).</summary>
public sealed record HistorySocketDto(
    string Protocol, string Family, HistoryEndpointDto Local, HistoryEndpointDto Remote, string State, long Inode, int Uid,
    IReadOnlyList<HistoryOwnerDto> Owners);

/// <summary>One birth or death.</summary>
/// <param name="At">When it was seen.</param>
/// <param name="Event"><c>opened</c>, <c>closed</c>, or <c>short-lived</c> (opened and closed between two polls: seen only closing).</param>
/// <param name="Socket">The socket.</param>
/// <param name="BornAt">When first seen.</param>
/// <param name="DiedAt">When first missed; null while alive.</param>
/// <param name="LifetimeMs">How long it lived, as far as the polls tell; null while alive or for a short-lived one (under one poll interval).</param>
/// <param name="OpenAtStart">Whether it was already open when watching started (born then or earlier).</param>
/// <param name="DiedUnwatched">Whether it went while PortDashboard was not running (at or before <paramref name="DiedAt"/>).</param>
/// <param name="OwnerSource">How the owner was found: <c>seen</c>, <c>listener</c> (accepted by it), <c>same-destination</c> (likely); null when no owner.</param>
public sealed record HistoryEventDto(
    DateTimeOffset At, string Event, HistorySocketDto Socket, DateTimeOffset BornAt, DateTimeOffset? DiedAt, long? LifetimeMs,
    bool OpenAtStart, bool DiedUnwatched, string? OwnerSource);

/// <summary>The body of <c>GET /api/history</c>.</summary>
/// <remarks>
/// <c>WriteError</c> is the history writer's last error while writes fail (a full disk: null once a write works
/// again); <c>Dropped</c> counts the records failed writes lost since start (appended fields).
/// </remarks>
public sealed record HistoryMessage(
    DateTimeOffset From, DateTimeOffset To, string Filter, int Count, bool Truncated, IReadOnlyList<HistoryEventDto> Events,
    string? WriteError, long Dropped);

/// <summary>One destination's use of the ephemeral range.</summary>
public sealed record DestinationDto(
    string Protocol, string LocalAddress, HistoryEndpointDto Remote, int PortsInUse, int TimeWait, double Utilization,
    double OpeningRatePerSecond, double? SecondsToExhaustion, string Level);

/// <summary>The body of <c>GET /api/ephemeral</c>.</summary>
public sealed record EphemeralMessage(
    DateTimeOffset At, int EphemeralFirst, int EphemeralLast, int RangeSize, int TcpPortsInUse, int UdpPortsInUse, int TcpTimeWait,
    double TimeWaitShare, string Level, double WarningAt, double CriticalAt, bool ShortLivedCaptured, string? ShortLivedNotCapturedReason,
    IReadOnlyList<DestinationDto> Destinations);
