using System.Globalization;

namespace PortDashboard.Insight.History;

/// <summary>
/// The times the history API and page accept: an ISO 8601 date-time (<c>2026-05-01T12:00:00Z</c>; without an offset
/// it is UTC), <c>now</c>, or a time before now (<c>-90s</c>, <c>-5m</c>, <c>-2h</c>, <c>-1d</c>).
/// </summary>
public static class HistoryTime
{
    public const string Accepted = "an ISO 8601 date-time (e.g. 2026-05-01T12:00:00Z), 'now', or a time before now such as -90s, -5m, -2h or -1d";

    public static bool TryParse(string? text, DateTimeOffset now, out DateTimeOffset at, out string? error)
    {
        at = default;
        error = null;
        var value = (text ?? "").Trim();
        if (value.Length == 0)
        {
            error = $"is empty; expected {Accepted}";
            return false;
        }

        if (value.Equals("now", StringComparison.OrdinalIgnoreCase))
        {
            at = now;
            return true;
        }

        if (value[0] == '-' && value.Length >= 3 && TryParseAgo(value.AsSpan(1), out var ago))
        {
            at = now - ago;
            return true;
        }

        if (value.Length >= 10 && char.IsAsciiDigit(value[0])
            && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out at))
        {
            return true;
        }

        error = $"'{(value.Length > 64 ? value[..64] + "…" : value)}' is not a time; expected {Accepted}";
        return false;
    }

    /// <summary>The form a page puts in its URL: ISO 8601 in UTC to the second.</summary>
    public static string Format(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static bool TryParseAgo(ReadOnlySpan<char> text, out TimeSpan ago)
    {
        ago = default;
        var unit = text[^1];
        if (!double.TryParse(text[..^1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount) || amount > 1e6)
        {
            return false;
        }

        ago = unit switch
        {
            's' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMinutes(amount),
            'h' => TimeSpan.FromHours(amount),
            'd' => TimeSpan.FromDays(amount),
            _ => TimeSpan.MinValue,
        };
        return ago != TimeSpan.MinValue;
    }
}
