namespace PortDashboard.Core.Reading;

/// <summary>uid → user name from a passwd file, re-read when the file changes. A uid with no entry shows as its number.</summary>
public sealed class UserNames
{
    private readonly string _passwdPath;
    private readonly Lock _gate = new();
    private Dictionary<int, string> _names = [];
    private DateTime _loadedWriteTime = DateTime.MinValue;

    public UserNames(string passwdPath = "/etc/passwd") => _passwdPath = passwdPath;

    public string NameOf(int uid)
    {
        lock (_gate)
        {
            RefreshIfChanged();
            if (_names.TryGetValue(uid, out var name))
            {
                return name;
            }

            name = uid.ToString(System.Globalization.CultureInfo.InvariantCulture);
            _names[uid] = name;
            return name;
        }
    }

    private void RefreshIfChanged()
    {
        DateTime writeTime;
        try
        {
            writeTime = File.GetLastWriteTimeUtc(_passwdPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }

        if (writeTime == _loadedWriteTime)
        {
            return;
        }

        var names = new Dictionary<int, string>();
        try
        {
            foreach (var line in File.ReadLines(_passwdPath))
            {
                // name:password:uid:gid:gecos:home:shell
                var parts = line.Split(':');
                if (parts.Length >= 3 && int.TryParse(parts[2], out var uid) && parts[0].Length > 0)
                {
                    names.TryAdd(uid, parts[0]);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }

        _names = names;
        _loadedWriteTime = writeTime;
    }
}
