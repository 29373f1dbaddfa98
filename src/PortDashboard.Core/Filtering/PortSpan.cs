using System.Globalization;
using PortDashboard.Core.Ports;

namespace PortDashboard.Core.Filtering;

/// <summary>A port or an inclusive span of ports: <c>443</c>, <c>8000-8999</c>.</summary>
public readonly record struct PortSpan(int First, int Last)
{
    public bool Contains(int port) => port >= First && port <= Last;

    public static bool TryParse(ReadOnlySpan<char> text, out PortSpan span)
    {
        span = default;
        var dash = text.IndexOf('-');
        if (dash < 0)
        {
            if (!TryParsePort(text, out var port))
            {
                return false;
            }

            span = new PortSpan(port, port);
            return true;
        }

        if (!TryParsePort(text[..dash], out var first) || !TryParsePort(text[(dash + 1)..], out var last) || first > last)
        {
            return false;
        }

        span = new PortSpan(first, last);
        return true;
    }

    private static bool TryParsePort(ReadOnlySpan<char> text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port <= PortRanges.LastPort;

    public override string ToString() => First == Last
        ? First.ToString(CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"{First}-{Last}");
}
