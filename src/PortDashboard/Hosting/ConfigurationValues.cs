using System.Globalization;

namespace PortDashboard.Hosting;

/// <summary>
/// Reads one configuration value at a time, so a malformed value is reported with its full key and what is accepted
/// (instead of the binder stopping at the first conversion error). An absent or blank value keeps the default.
/// </summary>
internal static class ConfigurationValues
{
    public static TimeSpan ReadTimeSpan(IConfigurationSection section, string key, TimeSpan fallback, List<string> errors)
    {
        var text = section[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        errors.Add($"{ConfigurationPath.Combine(section.Path, key)} is '{text}', which is not a time span; write it as hh:mm:ss[.fff], e.g. 00:00:01 or 00:00:00.250");
        return fallback;
    }

    public static bool ReadBool(IConfigurationSection section, string key, bool fallback, List<string> errors)
    {
        var text = section[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        if (bool.TryParse(text, out var value))
        {
            return value;
        }

        errors.Add($"{ConfigurationPath.Combine(section.Path, key)} is '{text}'; expected true or false");
        return fallback;
    }

    public static int ReadInt(IConfigurationSection section, string key, int fallback, List<string> errors)
    {
        var text = section[key];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        errors.Add($"{ConfigurationPath.Combine(section.Path, key)} is '{text}', which is not a whole number");
        return fallback;
    }
}
