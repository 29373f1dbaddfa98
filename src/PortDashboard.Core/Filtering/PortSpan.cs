using System.Globalization;
using PortDashboard.Core.Ports;

namespace PortDashboard.Core.Filtering;

/// <summary>A port or an inclusive span of ports: <c>443</c>, <c>8000-8999</c>.</summary>
public readonly record struct PortSpan
{
    /// <param name="first">The first port, 0–65535.</param>
    /// <param name="last">The last port, from <paramref name="first"/> to 65535.</param>
    public PortSpan(int first, int last)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(last, PortRanges.LastPort);
        ArgumentOutOfRangeException.ThrowIfLessThan(last, first);
        First = first;
        Last = last;
    }

    /// <summary>The span holding one port.</summary>
    public PortSpan(int port)
        : this(port, port)
    {
    }

    public int First { get; }

    public int Last { get; }

    public bool Contains(int port) => port >= First && port <= Last;

    public static bool TryParse(ReadOnlySpan<char> text, out PortSpan span) => TryParse(text, out span, out _);

    /// <summary>Parses <c>port</c> or <c>first-last</c>, or says what is wrong.</summary>
    internal static bool TryParse(ReadOnlySpan<char> text, out PortSpan span, out string? error)
    {
        span = default;
        var dash = text.IndexOf('-');
        var firstText = dash < 0 ? text : text[..dash];
        var lastText = dash < 0 ? text : text[(dash + 1)..];
        if (!TryParseNumber(firstText, out var first) || !TryParseNumber(lastText, out var last))
        {
            error = $"invalid port '{text}'; expected a port from 0 to 65535 or a span such as 8000-8999";
            return false;
        }

        if (first > PortRanges.LastPort || last > PortRanges.LastPort)
        {
            error = $"port '{text}' is out of range; expected a port from 0 to 65535";
            return false;
        }

        if (first > last)
        {
            error = $"port span '{text}' is reversed; write it as {last}-{first}";
            return false;
        }

        span = new PortSpan(first, last);
        error = null;
        return true;
    }

    /// <summary>Decimal digits only; anything longer than 65535 needs is read as "out of range", not as an overflow.</summary>
    private static bool TryParseNumber(ReadOnlySpan<char> text, out int value)
    {
        value = 0;
        if (text.IsEmpty || text.ContainsAnyExceptInRange('0', '9'))
        {
            return false;
        }

        value = text.TrimStart('0').Length > 5
            ? int.MaxValue
            : int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
        return true;
    }

    public override string ToString() => First == Last
        ? First.ToString(CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"{First}-{Last}");
}
