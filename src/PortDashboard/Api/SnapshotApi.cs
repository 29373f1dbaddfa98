using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using PortDashboard.Core.Filtering;
using PortDashboard.Monitoring;

namespace PortDashboard.Api;

/// <summary>
/// <c>GET /api/snapshot</c> (JSON) and <c>GET /api/snapshot.csv</c>: the current snapshot through the same filter
/// query as the pages (<c>range, proto, state, process, port, address, q, side</c>). A bad filter answers 400 with
/// problem details whose <c>detail</c> is the filter's message and whose <c>parameter</c> names the query key.
/// </summary>
public static class SnapshotApi
{
    public static IEndpointRouteBuilder MapSnapshotApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api");
        api.MapGet("/snapshot", GetSnapshot).WithName("GetSnapshot");
        api.MapGet("/snapshot.csv", GetSnapshotCsv).WithName("GetSnapshotCsv");
        return endpoints;
    }

    internal static Results<Ok<SnapshotMessage>, ProblemHttpResult> GetSnapshot(HttpRequest request, ISnapshotFeed feed, WireMapper mapper)
    {
        if (!TryParseFilter(request, out var filter, out var problem))
        {
            return problem;
        }

        var current = feed.CurrentBatch;
        return TypedResults.Ok(mapper.Snapshot(current.Latest, current.Sequence, filter));
    }

    internal static async Task<IResult> GetSnapshotCsv(HttpContext context, ISnapshotFeed feed, WireMapper mapper)
    {
        if (!TryParseFilter(context.Request, out var filter, out var problem))
        {
            return problem;
        }

        var current = feed.CurrentBatch;
        var message = mapper.Snapshot(current.Latest, current.Sequence, filter);
        var response = context.Response;
        response.ContentType = "text/csv; charset=utf-8";
        var stamp = message.Metadata.TakenAt.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        response.Headers.ContentDisposition = $"attachment; filename=\"sockets-{stamp}.csv\"";
        await using var writer = new StreamWriter(response.Body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 64 * 1024);
        await writer.WriteAsync(SnapshotCsv.Header);
        foreach (var socket in message.Sockets)
        {
            await writer.WriteAsync(SnapshotCsv.Row(socket));
        }

        await writer.FlushAsync(context.RequestAborted);
        return Results.Empty;
    }

    private static bool TryParseFilter(HttpRequest request, out Filter filter, out ProblemHttpResult problem)
    {
        try
        {
            filter = Filter.Parse(request.QueryString.Value);
            problem = null!;
            return true;
        }
        catch (FilterException e)
        {
            filter = Filter.Empty;
            problem = TypedResults.Problem(
                title: "Invalid filter",
                detail: e.Message,
                statusCode: StatusCodes.Status400BadRequest,
                extensions: new Dictionary<string, object?> { ["parameter"] = e.Parameter });
            return false;
        }
    }
}

/// <summary>The CSV form of a socket list (RFC 4180: CRLF line ends, fields quoted when they need it).</summary>
public static class SnapshotCsv
{
    public static readonly string Header = string.Join(',', Columns) + "\r\n";

    private static string[] Columns =>
    [
        "id", "protocol", "family",
        "local_address", "local_port", "local_range", "local_os_ephemeral", "local_privileged", "local_service",
        "remote_address", "remote_port", "remote_range", "remote_os_ephemeral", "remote_privileged", "remote_service",
        "state", "inode", "uid", "pids", "processes", "users", "transmit_queue", "receive_queue",
        "rtt_ms", "rttvar_ms", "cwnd", "retransmits", "lost", "bytes_acked", "bytes_received", "bytes_sent",
        "delivery_rate", "received_per_second", "sent_per_second", "first_seen", "seen_at_start",
        "netns", "netns_inode", "container",
    ];

    public static string Row(SocketDto socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var row = new StringBuilder(160);
        void Add(string? value)
        {
            if (row.Length > 0)
            {
                row.Append(',');
            }

            row.Append(Quote(value));
        }

        void AddNumber(long value) => Add(value.ToString(CultureInfo.InvariantCulture));

        void AddEndpoint(EndpointDto endpoint)
        {
            Add(endpoint.Address);
            AddNumber(endpoint.Port);
            Add(endpoint.Range);
            Add(endpoint.OsEphemeral ? "true" : "false");
            Add(endpoint.Privileged ? "true" : "false");
            Add(endpoint.Service);
        }

        Add(socket.Id);
        Add(socket.Protocol);
        Add(socket.Family);
        AddEndpoint(socket.Local);
        AddEndpoint(socket.Remote);
        Add(socket.State);
        AddNumber(socket.Inode);
        AddNumber(socket.Uid);
        Add(string.Join(';', socket.Owners.Select(o => o.Pid.ToString(CultureInfo.InvariantCulture))));
        Add(string.Join(';', socket.Owners.Select(o => o.Name)));
        Add(string.Join(';', socket.Owners.Select(o => o.User).Distinct()));
        AddNumber(socket.Queues.Transmit);
        AddNumber(socket.Queues.Receive);

        // TCP internals: empty fields when unknown (UDP, /proc/net, the first poll's rates), never 0.
        var tcp = socket.Tcp;
        void AddOptional(double? value) => Add(value?.ToString("0.###", CultureInfo.InvariantCulture));
        AddOptional(tcp?.RttMs);
        AddOptional(tcp?.RttVarMs);
        AddOptional(tcp?.CongestionWindow);
        AddOptional(tcp?.Retransmits);
        AddOptional(tcp?.Lost);
        AddOptional(tcp?.BytesAcked);
        AddOptional(tcp?.BytesReceived);
        AddOptional(tcp?.BytesSent);
        AddOptional(tcp?.DeliveryRate);
        AddOptional(tcp?.ReceivedPerSecond);
        AddOptional(tcp?.SentPerSecond);
        Add(socket.FirstSeen?.ToString("O", CultureInfo.InvariantCulture));
        Add(socket.SeenAtStart ? "true" : "false");
        Add(socket.Netns?.Name ?? Core.Sockets.NetNamespace.HostName);
        Add(socket.Netns?.Inode?.ToString(CultureInfo.InvariantCulture));
        Add(socket.Container);
        return row.Append("\r\n").ToString();
    }

    /// <summary>Quotes a field when it holds a comma, a quote, a line break or edge spaces; quotes inside are doubled.</summary>
    public static string Quote(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }

        var needsQuotes = value.AsSpan().IndexOfAny(",\"\r\n") >= 0 || value[0] == ' ' || value[^1] == ' ';
        return needsQuotes ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
