using System.Globalization;
using Microsoft.AspNetCore.Http;
using PortDashboard.Core.Filtering;

namespace PortDashboard.Insight.History;

/// <summary>What <c>GET /api/history</c> asks for: the filter, the window [from, to) and the most events to return.</summary>
public readonly record struct HistoryQuery(Filter Filter, DateTimeOffset From, DateTimeOffset To, int Limit)
{
    /// <summary>Why a query was refused: the problem's title, the parameter at fault and a message naming the value.</summary>
    public readonly record struct Refusal(string Title, string Parameter, string Detail);

    public static IReadOnlyCollection<string> OwnKeys { get; } = ["from", "to", "limit"];

    /// <summary>The window when none is given: the hour before <c>to</c>.</summary>
    public static TimeSpan DefaultWindow { get; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Reads the filter and <c>from</c>, <c>to</c>, <c>limit</c> of <paramref name="queryString"/> (whose parsed
    /// form is <paramref name="query"/>). False with the refusal for a bad value; never throws for any input.
    /// </summary>
    public static bool TryParse(string? queryString, IQueryCollection query, DateTimeOffset now, out HistoryQuery parsed, out Refusal refusal)
    {
        ArgumentNullException.ThrowIfNull(query);
        parsed = default;
        refusal = default;
        Filter filter;
        try
        {
            filter = Filter.Parse(queryString, OwnKeys);
        }
        catch (FilterException e)
        {
            refusal = new Refusal("Invalid filter", e.Parameter, e.Message);
            return false;
        }

        var to = now;
        if (query.TryGetValue("to", out var toText) && !HistoryTime.TryParse(toText, now, out to, out var toError))
        {
            refusal = new Refusal("Invalid time", "to", "to " + toError);
            return false;
        }

        // The hour before to, or from the first instant when to is within the first hour of year 1.
        var from = to.UtcTicks - DateTimeOffset.MinValue.UtcTicks < DefaultWindow.Ticks ? DateTimeOffset.MinValue : to - DefaultWindow;
        if (query.TryGetValue("from", out var fromText) && !HistoryTime.TryParse(fromText, now, out from, out var fromError))
        {
            refusal = new Refusal("Invalid time", "from", "from " + fromError);
            return false;
        }

        if (from > to)
        {
            refusal = new Refusal("Invalid time", "from", $"from ({HistoryTime.Format(from)}) is after to ({HistoryTime.Format(to)})");
            return false;
        }

        var limit = InsightApi.DefaultLimit;
        if (query.TryGetValue("limit", out var limitText)
            && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > InsightApi.MaxLimit))
        {
            refusal = new Refusal("Invalid limit", "limit", $"limit '{limitText}' must be a whole number from 1 to {InsightApi.MaxLimit}");
            return false;
        }

        parsed = new HistoryQuery(filter, from, to, limit);
        return true;
    }
}
