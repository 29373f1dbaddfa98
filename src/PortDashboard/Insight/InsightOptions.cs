using Microsoft.Extensions.Options;
using PortDashboard.Core.Pressure;

namespace PortDashboard.Insight;

/// <summary>
/// The <c>PortDashboard:Pressure:*</c> and <c>PortDashboard:History:*</c> keys (README, "Ephemeral port pressure" and
/// "History"). Bound by the configuration binder: a value of the wrong type stops start-up with the key's path.
/// </summary>
public sealed class InsightOptions
{
    public const string PressureSection = "PortDashboard:Pressure";
    public const string HistorySection = "PortDashboard:History";

    public PressureOptions Pressure { get; set; } = new();

    public HistoryOptions History { get; set; } = new();
}

/// <summary><c>PortDashboard:Pressure:*</c>: when ephemeral port use is a warning or critical, and the heatmap's shape.</summary>
public sealed class PressureOptions
{
    /// <summary>Percent of the OS ephemeral range in use (per protocol or per destination) at which a warning starts.</summary>
    public double Warning { get; set; } = 70;

    /// <summary>Percent at which the level is critical.</summary>
    public double Critical { get; set; } = 90;

    /// <summary>How many slices the heatmap cuts the OS ephemeral range into (4 to 256).</summary>
    public int HeatmapBuckets { get; set; } = 64;

    /// <summary>How much time one heatmap column covers (1 s to 10 min).</summary>
    public TimeSpan HeatmapSlot { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How far back the heatmap reaches (up to 360 columns).</summary>
    public TimeSpan HeatmapWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How many destinations are listed, top first (and exported as metrics).</summary>
    public int TopDestinations { get; set; } = 50;

    /// <summary>How many sockets seen closing are kept for the list (the counts cover them all).</summary>
    public int RecentClosedSockets { get; set; } = 500;

    public PressureThresholds Thresholds => new(Warning / 100, Critical / 100);
}

/// <summary><c>PortDashboard:History:*</c>: the SQLite file of socket births and deaths, and its bounds.</summary>
public sealed class HistoryOptions
{
    /// <summary>Whether births and deaths are recorded at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The database file; a relative path is under the content root (beside appsettings.json).</summary>
    public string Path { get; set; } = System.IO.Path.Combine("data", "history.db");

    /// <summary>Sockets that died longer ago than this are deleted.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromHours(24);

    /// <summary>At most this many sockets are kept; the oldest go first.</summary>
    public int MaxRows { get; set; } = 1_000_000;

    /// <summary>How many writes the background writer may have queued before the recorder waits (never the snapshot service).</summary>
    public int QueueCapacity { get; set; } = 200_000;

    /// <summary>The most writes one transaction holds.</summary>
    public int BatchSize { get; set; } = 5_000;

    /// <summary>How often old rows are deleted.</summary>
    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>Checks <see cref="InsightOptions"/> at start-up; every message names its key and what is allowed.</summary>
internal sealed class InsightOptionsValidator : IValidateOptions<InsightOptions>
{
    public ValidateOptionsResult Validate(string? name, InsightOptions options)
    {
        var errors = new List<string>();
        var pressure = options.Pressure;
        const string p = InsightOptions.PressureSection;
        const string h = InsightOptions.HistorySection;
        if (pressure.Warning is <= 0 or > 100 || double.IsNaN(pressure.Warning))
        {
            errors.Add($"{p}:Warning is {pressure.Warning}; it must be a percentage above 0 and at most 100");
        }

        if (pressure.Critical is <= 0 or > 100 || double.IsNaN(pressure.Critical))
        {
            errors.Add($"{p}:Critical is {pressure.Critical}; it must be a percentage above 0 and at most 100");
        }
        else if (pressure.Critical < pressure.Warning)
        {
            errors.Add($"{p}:Critical ({pressure.Critical}) is below {p}:Warning ({pressure.Warning}); critical must be at least the warning level");
        }

        if (pressure.HeatmapBuckets is < 4 or > 256)
        {
            errors.Add($"{p}:HeatmapBuckets is {pressure.HeatmapBuckets}; it must be from 4 to 256");
        }

        if (pressure.HeatmapSlot < TimeSpan.FromSeconds(1) || pressure.HeatmapSlot > TimeSpan.FromMinutes(10))
        {
            errors.Add($"{p}:HeatmapSlot is {pressure.HeatmapSlot:c}; it must be from 1 s to 10 min (00:00:01 to 00:10:00)");
        }
        else if (pressure.HeatmapWindow < pressure.HeatmapSlot || pressure.HeatmapWindow / pressure.HeatmapSlot > 360)
        {
            errors.Add($"{p}:HeatmapWindow is {pressure.HeatmapWindow:c}; it must hold from 1 to 360 slots of {p}:HeatmapSlot ({pressure.HeatmapSlot:c})");
        }

        if (pressure.TopDestinations is < 1 or > 1000)
        {
            errors.Add($"{p}:TopDestinations is {pressure.TopDestinations}; it must be from 1 to 1000");
        }

        if (pressure.RecentClosedSockets is < 1 or > 100_000)
        {
            errors.Add($"{p}:RecentClosedSockets is {pressure.RecentClosedSockets}; it must be from 1 to 100000");
        }

        var history = options.History;
        if (history.Enabled && string.IsNullOrWhiteSpace(history.Path))
        {
            errors.Add($"{h}:Path is empty; it must name the database file (or set {h}:Enabled to false)");
        }

        if (history.MaxAge < TimeSpan.FromMinutes(1))
        {
            errors.Add($"{h}:MaxAge is {history.MaxAge:c}; it must be at least 1 min (00:01:00)");
        }

        if (history.MaxRows is < 1000 or > 100_000_000)
        {
            errors.Add($"{h}:MaxRows is {history.MaxRows}; it must be from 1000 to 100000000");
        }

        if (history.QueueCapacity is < 100 or > 10_000_000)
        {
            errors.Add($"{h}:QueueCapacity is {history.QueueCapacity}; it must be from 100 to 10000000");
        }

        if (history.BatchSize is < 1 or > 100_000)
        {
            errors.Add($"{h}:BatchSize is {history.BatchSize}; it must be from 1 to 100000");
        }

        if (history.PruneInterval < TimeSpan.FromSeconds(1) || history.PruneInterval > TimeSpan.FromHours(1))
        {
            errors.Add($"{h}:PruneInterval is {history.PruneInterval:c}; it must be from 1 s to 1 h");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
