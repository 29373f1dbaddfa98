namespace PortDashboard.Core.Ports;

/// <summary>
/// Reads <see cref="OsPortPolicy"/> from <c>{procRoot}/sys/net/ipv4/ip_local_port_range</c> and
/// <c>ip_unprivileged_port_start</c>. A missing, unreadable or malformed file falls back to that value of
/// <see cref="OsPortPolicy.LinuxDefault"/> (ephemeral 32768–60999, unprivileged from 1024: the kernel's own
/// defaults) and <see cref="OsPortPolicy.Source"/> says which file and why. It never throws for a bad file.
/// </summary>
public static class OsPortPolicyReader
{
    public static OsPortPolicy Read(string procRoot)
    {
        var dir = Path.Combine(procRoot, "sys", "net", "ipv4");
        var rangePath = Path.Combine(dir, "ip_local_port_range");
        var unprivilegedPath = Path.Combine(dir, "ip_unprivileged_port_start");
        var defaults = OsPortPolicy.LinuxDefault;
        var notes = new List<string>();

        var (first, last) = (defaults.EphemeralFirst, defaults.EphemeralLast);
        var rangeText = TryReadText(rangePath, out var rangeProblem);
        if (rangeText is not null && TryParseRange(rangeText, out var f, out var l))
        {
            (first, last) = (f, l);
        }
        else
        {
            notes.Add($"{rangePath} {rangeProblem ?? Malformed(rangeText!, "two port numbers, first <= last")}, using the default {first}-{last}");
        }

        var unprivileged = defaults.UnprivilegedPortStart;
        var unprivilegedText = TryReadText(unprivilegedPath, out var unprivilegedProblem);
        if (unprivilegedText is not null && TryParsePort(unprivilegedText.AsSpan().Trim(), out var u))
        {
            unprivileged = u;
        }
        else
        {
            notes.Add($"{unprivilegedPath} {unprivilegedProblem ?? Malformed(unprivilegedText!, "one port number")}, using the default {unprivileged}");
        }

        return new OsPortPolicy(first, last, unprivileged)
        {
            Source = notes.Count == 0 ? dir : string.Join("; ", notes),
        };
    }

    /// <summary>Parses "32768\t60999\n": two ports (0–65535), first &lt;= last, separated by tabs or any run of spaces.</summary>
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

    private static string Malformed(string text, string expected)
    {
        var shown = text.Trim();
        return $"is malformed ('{(shown.Length > 40 ? shown[..40] + "…" : shown)}'; expected {expected})";
    }

    private static string? TryReadText(string path, out string? problem)
    {
        try
        {
            problem = null;
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            problem = "is missing";
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = $"is unreadable ({e.Message})";
            return null;
        }
    }
}
