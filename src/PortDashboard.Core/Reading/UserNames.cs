using System.Globalization;

namespace PortDashboard.Core.Reading;

/// <summary>
/// uid → user name from a passwd file (<c>name:password:uid:gid:gecos:home:shell</c>), re-read when the file's
/// modification time changes. A uid with no entry, or a missing file, shows as the number. Thread-safe.
/// </summary>
public sealed class UserNames
{
    private readonly string _passwdPath;
    private readonly Lock _gate = new();
    private Dictionary<int, string> _names = [];
    private DateTime? _loadedWriteTime;

    public UserNames(string passwdPath = "/etc/passwd") => _passwdPath = passwdPath;

    public string NameOf(int uid)
    {
        lock (_gate)
        {
            RefreshIfChanged();
            if (!_names.TryGetValue(uid, out var name))
            {
                name = uid.ToString(CultureInfo.InvariantCulture);
                _names[uid] = name;
            }

            return name;
        }
    }

    private void RefreshIfChanged()
    {
        try
        {
            // A missing file reads as 1601-01-01, so it is tried once, not on every call.
            var writeTime = File.GetLastWriteTimeUtc(_passwdPath);
            if (writeTime == _loadedWriteTime)
            {
                return;
            }

            _loadedWriteTime = writeTime;
            _names = Parse(File.ReadLines(_passwdPath));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Keep the names we had: an unreadable passwd file shows uids as numbers, never fails attribution.
        }
    }

    /// <summary>The first entry for a uid wins, as in getpwuid; lines that are not entries are skipped.</summary>
    internal static Dictionary<int, string> Parse(IEnumerable<string> lines)
    {
        var names = new Dictionary<int, string>();
        foreach (var line in lines)
        {
            var span = line.AsSpan();
            var nameEnd = span.IndexOf(':');
            if (nameEnd <= 0 || span.StartsWith("#") || span.StartsWith("+") || span.StartsWith("-"))
            {
                continue;
            }

            var afterPassword = span[(nameEnd + 1)..];
            var passwordEnd = afterPassword.IndexOf(':');
            if (passwordEnd < 0)
            {
                continue;
            }

            var uidField = afterPassword[(passwordEnd + 1)..];
            var uidEnd = uidField.IndexOf(':');
            if (int.TryParse(uidEnd < 0 ? uidField : uidField[..uidEnd], NumberStyles.None, CultureInfo.InvariantCulture, out var uid))
            {
                names.TryAdd(uid, line[..nameEnd]);
            }
        }

        return names;
    }
}
