namespace PortDashboard.Naming;

/// <summary>
/// <c>PortDashboard:ReverseDns:*</c>: the names shown beside remote addresses on the pages (README, "Names").
/// Bound by the configuration binder: a value of the wrong type stops start-up with the key's path.
/// </summary>
public sealed class ReverseDnsOptions
{
    public const string Section = "PortDashboard:ReverseDns";

    /// <summary>Whether the pages look up names at all (the API, CSV, hub and metrics never do).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How long a name found is kept.</summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long an address without a name (or whose lookup failed or timed out) is not asked again.</summary>
    public TimeSpan NegativeTtl { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long one lookup may take before the address is shown without a name.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How many lookups run at once.</summary>
    public int MaxConcurrent { get; set; } = 4;

    /// <summary>How many addresses may wait for a lookup; more are asked for again when next shown.</summary>
    public int QueueCapacity { get; set; } = 1024;

    /// <summary>How many addresses the cache keeps; past it, expired entries go first, then the oldest.</summary>
    public int CacheCapacity { get; set; } = 10_000;

    /// <summary>The options' problems, one sentence each; empty when they are usable.</summary>
    public IEnumerable<string> Problems()
    {
        if (Ttl <= TimeSpan.Zero || NegativeTtl <= TimeSpan.Zero)
        {
            yield return "PortDashboard:ReverseDns:Ttl and NegativeTtl must be positive time spans (e.g. 00:10:00)";
        }

        if (Timeout <= TimeSpan.Zero || Timeout > TimeSpan.FromMinutes(1))
        {
            yield return "PortDashboard:ReverseDns:Timeout must be between 00:00:00.001 and 00:01:00";
        }

        if (MaxConcurrent is < 1 or > 64)
        {
            yield return "PortDashboard:ReverseDns:MaxConcurrent must be between 1 and 64";
        }

        if (QueueCapacity is < 1 or > 1_000_000 || CacheCapacity is < 1 or > 10_000_000)
        {
            yield return "PortDashboard:ReverseDns:QueueCapacity must be 1 to 1,000,000 and CacheCapacity 1 to 10,000,000";
        }
    }
}
