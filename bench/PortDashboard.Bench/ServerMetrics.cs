using System.Globalization;

namespace PortDashboard.Bench;

/// <summary>The app's <c>/metrics</c> (Prometheus text), as the benches read it.</summary>
internal static class ServerMetrics
{
    /// <summary>Each metric's value, summed over its labels.</summary>
    public static async Task<Dictionary<string, double>> ScrapeAsync(HttpClient http)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in (await http.GetStringAsync(new Uri("/metrics", UriKind.Relative))).Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var nameEnd = line.IndexOfAny(['{', ' ']);
            var valueStart = line.LastIndexOf('}') is var brace and >= 0 ? brace + 1 : nameEnd;
            var parts = line[valueStart..].Trim().Split(' ');
            if (nameEnd > 0 && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                var name = line[..nameEnd];
                values[name] = values.GetValueOrDefault(name) + value;
            }
        }

        return values;
    }

    /// <summary>
    /// <see cref="ScrapeAsync"/>, tried again until it answers or <paramref name="deadline"/> passes (a loaded machine
    /// can hold one request past the client's timeout); the last failure is thrown then.
    /// </summary>
    public static async Task<Dictionary<string, double>> ScrapeWithinAsync(HttpClient http, TimeSpan deadline)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await ScrapeAsync(http);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && clock.Elapsed < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
        }
    }

    /// <summary>The p-th value (0..1) of a sorted list, nearest rank; NaN when empty.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
}
