using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace PortDashboard.Fleet;

/// <summary>
/// <c>PortDashboard:Fleet</c>: the Redis many hosts meet in (README, "Fleet"). Without <see cref="Redis"/> the app is
/// standalone, as it always was.
/// </summary>
public sealed class FleetOptions
{
    public const string SectionName = "PortDashboard:Fleet";

    /// <summary><c>PortDashboard:Role</c>: <c>standalone</c>/<c>dashboard</c> (the web app) or <c>agent</c> (headless publisher).</summary>
    public const string RoleKey = "PortDashboard:Role";

    /// <summary>Where Redis is: <c>host:port</c> or a unix socket path; StackExchange.Redis configuration syntax.</summary>
    public string? Redis { get; set; }

    /// <summary>Redis ACL user (Redis 6+), or none for the default user.</summary>
    public string? User { get; set; }

    public string? Password { get; set; }

    /// <summary>Connect with TLS.</summary>
    public bool Tls { get; set; }

    /// <summary>TLS server name to check, when it differs from the host in <see cref="Redis"/>.</summary>
    public string? TlsHost { get; set; }

    /// <summary>The name this host publishes under; default: the host name.</summary>
    public string? HostName { get; set; }

    /// <summary>A dashboard also publishes its own host (an agent always does).</summary>
    public bool Publish { get; set; }

    /// <summary>How often a full snapshot is written besides the deltas (and whenever a consumer asks).</summary>
    public TimeSpan SnapshotInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>About how many deltas each host's stream keeps (XADD MAXLEN ~).</summary>
    public int StreamLength { get; set; } = 1000;

    /// <summary>The prefix of every key and channel, so several fleets may share one Redis.</summary>
    public string KeyPrefix { get; set; } = "portdashboard";

    public bool Enabled => !string.IsNullOrWhiteSpace(Redis);

    /// <summary>The client's configuration: never aborts on a failed connect, so it keeps retrying by itself.</summary>
    public ConfigurationOptions ToConfiguration()
    {
        var configuration = Parse(Redis!);
        configuration.AbortOnConnectFail = false;
        configuration.ConnectRetry = 1;
        configuration.ConnectTimeout = 3000;
        configuration.SyncTimeout = 3000;
        configuration.AsyncTimeout = 3000;
        configuration.ReconnectRetryPolicy = new LinearRetry(1000);
        configuration.ClientName = "portdashboard";
        if (!string.IsNullOrEmpty(User))
        {
            configuration.User = User;
        }

        if (!string.IsNullOrEmpty(Password))
        {
            configuration.Password = Password;
        }

        if (Tls)
        {
            configuration.Ssl = true;
            if (!string.IsNullOrEmpty(TlsHost))
            {
                configuration.SslHost = TlsHost;
            }
        }

        return configuration;
    }

    /// <summary>
    /// StackExchange.Redis's syntax, plus a unix socket: a first part that is an absolute path (or <c>unix:/path</c>),
    /// e.g. <c>/run/redis/redis.sock,password=...</c> (an agent in a network namespace reaches the host's Redis so).
    /// </summary>
    public static ConfigurationOptions Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var parts = value.Split(',', 2);
        var first = parts[0].Trim();
        var path = first.StartsWith("unix:", StringComparison.OrdinalIgnoreCase) ? first[5..] : first;
        if (!path.StartsWith('/'))
        {
            return ConfigurationOptions.Parse(value);
        }

        var configuration = parts.Length > 1 ? ConfigurationOptions.Parse(parts[1]) : new ConfigurationOptions();
        configuration.EndPoints.Add(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
        return configuration;
    }
}

internal sealed class FleetOptionsValidator : IValidateOptions<FleetOptions>
{
    public ValidateOptionsResult Validate(string? name, FleetOptions options)
    {
        var errors = new List<string>();
        var section = FleetOptions.SectionName;
        if (options.Enabled)
        {
            try
            {
                _ = FleetOptions.Parse(options.Redis!);
            }
            catch (ArgumentException e)
            {
                errors.Add($"{section}:Redis '{options.Redis}' is not a Redis configuration: {e.Message}");
            }
        }

        if (options.HostName is { } host && (host.Length is 0 or > 253 || !host.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_')))
        {
            errors.Add($"{section}:HostName '{host}' must be 1 to 253 letters, digits, '-', '.' or '_'");
        }

        if (options.SnapshotInterval < TimeSpan.FromSeconds(1) || options.SnapshotInterval > TimeSpan.FromHours(1))
        {
            errors.Add($"{section}:SnapshotInterval is {options.SnapshotInterval:c}; it must be from 1 s to 1 h");
        }

        if (options.StreamLength is < 10 or > 1_000_000)
        {
            errors.Add($"{section}:StreamLength is {options.StreamLength}; it must be from 10 to 1000000");
        }

        if (string.IsNullOrWhiteSpace(options.KeyPrefix) || options.KeyPrefix.Contains(' ', StringComparison.Ordinal))
        {
            errors.Add($"{section}:KeyPrefix must be a non-empty word without spaces");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>The names of the keys and channels one fleet uses in Redis.</summary>
public sealed class FleetKeys(string prefix)
{
    /// <summary>A set of every host name that ever published.</summary>
    public RedisKey Hosts { get; } = $"{prefix}:hosts";

    /// <summary>Where consumers ask a host for a fresh snapshot (the message is the host name).</summary>
    public RedisChannel SnapshotRequests { get; } = RedisChannel.Literal($"{prefix}:snapshot-requests");

    /// <summary>A capped stream of the host's deltas; fields <c>i</c> (agent instance) and <c>d</c> (MessagePack DeltaMessage).</summary>
    public RedisKey Deltas(string host) => $"{prefix}:host:{host}:deltas";

    /// <summary>A hash: <c>i</c> instance, <c>id</c> the stream id of the last delta included, <c>s</c> MessagePack SnapshotMessage.</summary>
    public RedisKey Snapshot(string host) => $"{prefix}:host:{host}:snapshot";

    /// <summary>The heartbeat: a JSON <see cref="Heartbeat"/> that expires after <see cref="Heartbeat.TtlIntervals"/> intervals.</summary>
    public RedisKey Heartbeat(string host) => $"{prefix}:host:{host}:heartbeat";

    /// <summary>A hash of agent instance id → its last heartbeat (Unix ms): two live ones for one name is a duplicate claim.</summary>
    public RedisKey Claims(string host) => $"{prefix}:host:{host}:claims";
}

/// <summary>What a heartbeat says: who beats, how often, and how it reads its table.</summary>
/// <param name="Instance">A random id per agent process: two of them under one host name is a duplicate claim.</param>
public sealed record Heartbeat(string Instance, double IntervalMs, DateTimeOffset At, long Sequence, string Reader, int Sockets)
{
    /// <summary>The heartbeat key lives 2.5 intervals: a silent host is offline within 3.</summary>
    public const double TtlIntervals = 2.5;

    /// <summary>A claim last seen more than this many intervals before the newest is gone.</summary>
    public const double ClaimIntervals = 3;
}
