namespace PortDashboard.Core.Ports;

/// <summary>
/// Reads <see cref="OsPortPolicy"/> from <c>{procRoot}/sys/net/ipv4/</c>. A missing or malformed file
/// falls back to the Linux default for that value (documented in the README) and says so in
/// <see cref="OsPortPolicy.Source"/>.
/// </summary>
public static class OsPortPolicyReader
{
    public static OsPortPolicy Read(string procRoot)
    {
        var dir = Path.Combine(procRoot, "sys", "net", "ipv4");
        var rangePath = Path.Combine(dir, "ip_local_port_range");
        var unprivPath = Path.Combine(dir, "ip_unprivileged_port_start");
        var defaults = OsPortPolicy.LinuxDefault;
        var notes = new List<string>();

        var (first, last) = (defaults.EphemeralFirst, defaults.EphemeralLast);
        if (TryReadText(rangePath) is { } rangeText && TryParseRange(rangeText, out var f, out var l))
        {
            (first, last) = (f, l);
        }
        else
        {
            notes.Add($"{rangePath} unreadable or malformed, using {first}-{last}");
        }

        var unprivileged = defaults.UnprivilegedPortStart;
        if (TryReadText(unprivPath) is { } unprivText && TryParsePort(unprivText.AsSpan().Trim(), out var u))
        {
            unprivileged = u;
        }
        else
        {
            notes.Add($"{unprivPath} unreadable or malformed, using {unprivileged}");
        }

        return new OsPortPolicy(first, last, unprivileged)
        {
            Source = notes.Count == 0 ? dir : string.Join("; ", notes),
        };
    }

    /// <summary>Parses "32768\t60999\n" (tabs or any run of spaces between the two numbers).</summary>
    public static bool TryParseRange(string text, out int first, out int last)
    {
        first = last = 0;
        var span = text.AsSpan().Trim();
        var split = span.IndexOfAny(' ', '\t');
        if (split < 0)
        {
            return false;
        }

        return TryParsePort(span[..split], out first)
            && TryParsePort(span[split..].Trim(), out last)
            && first <= last;
    }

    private static bool TryParsePort(ReadOnlySpan<char> text, out int port) =>
        int.TryParse(text, System.Globalization.NumberStyles.None, null, out port) && port is >= 0 and <= PortRanges.LastPort;

    private static string? TryReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
