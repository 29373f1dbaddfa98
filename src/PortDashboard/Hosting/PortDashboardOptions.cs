using System.Globalization;
using Microsoft.Extensions.Options;
using PortDashboard.Core.Reading.Namespaces;

namespace PortDashboard.Hosting;

/// <summary>The <c>PortDashboard:*</c> section of appsettings.json. Every key and its default is listed in the README.</summary>
public sealed class PortDashboardOptions
{
    public const string SectionName = "PortDashboard";

    public static readonly TimeSpan MinimumPollInterval = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan MaximumPollInterval = TimeSpan.FromSeconds(60);

    /// <summary>Where /proc is mounted: <c>/proc</c>, or <c>/host/proc</c> in a container.</summary>
    public string ProcRoot { get; set; } = "/proc";

    /// <summary>How often the socket table is read (100 ms to 60 s).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Whether sockets are attributed to the processes holding them.</summary>
    public bool AttributeOwners { get; set; } = true;

    /// <summary>
    /// How often attribution reads every process (0 to 1 h; 0 reads every process at every poll). Between those full
    /// scans it reads only what changed: new processes and the descriptors where new sockets are likely to be.
    /// </summary>
    public TimeSpan FullAttributionInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether full process command lines are read and shown (they can carry secrets).</summary>
    public bool ShowCommandLine { get; set; }

    /// <summary>The shortest time between two batches of deltas sent to one subscriber (0 to 10 s).</summary>
    public TimeSpan MinimumBatchInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How many of the latest deltas are kept in memory (1 to 100,000).</summary>
    public int DeltaHistory { get; set; } = 600;

    /// <summary>
    /// How many changes (sockets added, removed or changed) the kept deltas may hold together (1,000 to 10,000,000);
    /// the oldest deltas go first. It bounds the history's memory when the table churns hard.
    /// </summary>
    public int DeltaHistoryChanges { get; set; } = 50_000;

    /// <summary>How many deltas a subscriber may fall behind before it is resynced (1 to 100,000).</summary>
    public int SubscriberBacklog { get; set; } = 64;

    /// <summary>
    /// <c>PortDashboard:Namespaces:Enabled</c>: whether the tables of the other network namespaces (containers, pods,
    /// <c>ip netns</c>) are read too, each socket tagged with its namespace. Off by default: it needs root (setns, other
    /// users' <c>/proc/&lt;pid&gt;/ns</c>), and an agent run inside a namespace would report its neighbours' sockets.
    /// </summary>
    public bool NamespacesEnabled { get; set; }

    /// <summary><c>PortDashboard:Namespaces:Reader</c>: <c>auto</c>, <c>netlink</c> or <c>proc-net</c> (see <see cref="NamespaceReaderKind"/>).</summary>
    public NamespaceReaderKind NamespaceReader { get; set; } = NamespaceReaderKind.Auto;

    /// <summary>
    /// <c>PortDashboard:Namespaces:Interval</c>: how often the other namespaces are read (0 to 1 min; 0, the default: at every
    /// poll). Between, a poll shows their sockets as last read: each namespace's dump costs about a fraction of the host's.
    /// </summary>
    public TimeSpan NamespaceInterval { get; set; } = TimeSpan.Zero;

    /// <summary>How the logs are written: <c>text</c> (the sinks' templates) or <c>json</c> (Serilog's compact JSON, one event per line).</summary>
    public string LogFormat { get; set; } = "text";

    /// <summary>Problems met while binding the section (a value that is not a number, a time span...), reported by validation.</summary>
    internal List<string> BindingErrors { get; } = [];

    /// <summary>
    /// Reads the section key by key, so a malformed value is reported with its key and what is accepted instead of
    /// stopping at the first conversion error. Keys this class does not know are left to other features.
    /// </summary>
    internal void Bind(IConfigurationSection section)
    {
        ProcRoot = section[nameof(ProcRoot)] is { Length: > 0 } procRoot ? procRoot : ProcRoot;
        PollInterval = ConfigurationValues.ReadTimeSpan(section, nameof(PollInterval), PollInterval, BindingErrors);
        AttributeOwners = ConfigurationValues.ReadBool(section, nameof(AttributeOwners), AttributeOwners, BindingErrors);
        FullAttributionInterval = ConfigurationValues.ReadTimeSpan(section, nameof(FullAttributionInterval), FullAttributionInterval, BindingErrors);
        ShowCommandLine = ConfigurationValues.ReadBool(section, nameof(ShowCommandLine), ShowCommandLine, BindingErrors);
        MinimumBatchInterval = ConfigurationValues.ReadTimeSpan(section, nameof(MinimumBatchInterval), MinimumBatchInterval, BindingErrors);
        DeltaHistory = ConfigurationValues.ReadInt(section, nameof(DeltaHistory), DeltaHistory, BindingErrors);
        DeltaHistoryChanges = ConfigurationValues.ReadInt(section, nameof(DeltaHistoryChanges), DeltaHistoryChanges, BindingErrors);
        SubscriberBacklog = ConfigurationValues.ReadInt(section, nameof(SubscriberBacklog), SubscriberBacklog, BindingErrors);
        LogFormat = section[nameof(LogFormat)] is { Length: > 0 } format ? format : LogFormat;
        var namespaces = section.GetSection("Namespaces");
        NamespacesEnabled = ConfigurationValues.ReadBool(namespaces, "Enabled", NamespacesEnabled, BindingErrors);
        NamespaceInterval = ConfigurationValues.ReadTimeSpan(namespaces, "Interval", NamespaceInterval, BindingErrors);
        switch (namespaces["Reader"]?.Trim().ToLowerInvariant())
        {
            case null or "":
                break;
            case "auto":
                NamespaceReader = NamespaceReaderKind.Auto;
                break;
            case "netlink":
                NamespaceReader = NamespaceReaderKind.Netlink;
                break;
            case "proc-net":
                NamespaceReader = NamespaceReaderKind.ProcNet;
                break;
            default:
                BindingErrors.Add($"{SectionName}:Namespaces:Reader is '{namespaces["Reader"]}'; expected auto, netlink or proc-net");
                break;
        }
    }
}

/// <summary>Checks <see cref="PortDashboardOptions"/> at start-up; every message names its key and what is allowed.</summary>
internal sealed class PortDashboardOptionsValidator : IValidateOptions<PortDashboardOptions>
{
    public ValidateOptionsResult Validate(string? name, PortDashboardOptions options)
    {
        var errors = new List<string>(options.BindingErrors);
        const string section = PortDashboardOptions.SectionName;

        if (options.PollInterval < PortDashboardOptions.MinimumPollInterval || options.PollInterval > PortDashboardOptions.MaximumPollInterval)
        {
            errors.Add($"{section}:{nameof(options.PollInterval)} is {options.PollInterval:c}; it must be from 100 ms to 60 s (00:00:00.1 to 00:01:00)");
        }

        if (options.MinimumBatchInterval < TimeSpan.Zero || options.MinimumBatchInterval > TimeSpan.FromSeconds(10))
        {
            errors.Add($"{section}:{nameof(options.MinimumBatchInterval)} is {options.MinimumBatchInterval:c}; it must be from 0 to 10 s (00:00:00 to 00:00:10)");
        }

        if (options.FullAttributionInterval < TimeSpan.Zero || options.FullAttributionInterval > TimeSpan.FromHours(1))
        {
            errors.Add($"{section}:{nameof(options.FullAttributionInterval)} is {options.FullAttributionInterval:c}; it must be from 0 (every poll) to 1 h (00:00:00 to 01:00:00)");
        }

        if (options.DeltaHistory is < 1 or > 100_000)
        {
            errors.Add($"{section}:{nameof(options.DeltaHistory)} is {options.DeltaHistory}; it must be from 1 to 100000");
        }

        if (options.DeltaHistoryChanges is < 1_000 or > 10_000_000)
        {
            errors.Add($"{section}:{nameof(options.DeltaHistoryChanges)} is {options.DeltaHistoryChanges}; it must be from 1000 to 10000000");
        }

        if (options.SubscriberBacklog is < 1 or > 100_000)
        {
            errors.Add($"{section}:{nameof(options.SubscriberBacklog)} is {options.SubscriberBacklog}; it must be from 1 to 100000");
        }

        if (!options.LogFormat.Equals("text", StringComparison.OrdinalIgnoreCase) && !options.LogFormat.Equals("json", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"{section}:{nameof(options.LogFormat)} is '{options.LogFormat}'; expected text or json");
        }

        if (options.NamespaceInterval < TimeSpan.Zero || options.NamespaceInterval > TimeSpan.FromMinutes(1))
        {
            errors.Add($"{section}:Namespaces:Interval is {options.NamespaceInterval:c}; it must be from 0 (every poll) to 1 min (00:00:00 to 00:01:00)");
        }

        if (string.IsNullOrWhiteSpace(options.ProcRoot))
        {
            errors.Add($"{section}:{nameof(options.ProcRoot)} is empty; it must name the directory where /proc is mounted");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
