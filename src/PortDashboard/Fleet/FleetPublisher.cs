using System.Text.Json;
using MessagePack;
using Microsoft.Extensions.Options;
using PortDashboard.Api;
using PortDashboard.Core.Filtering;
using PortDashboard.Hosting;
using PortDashboard.Hubs;
using PortDashboard.Monitoring;
using StackExchange.Redis;

namespace PortDashboard.Fleet;

/// <summary>Who this process publishes as: the host name (configured, else the machine's) and a random instance id.</summary>
public sealed record FleetIdentity(string HostName, string Instance);

/// <summary>
/// Publishes this host's table to Redis (the agent role, or a dashboard with <c>PortDashboard:Fleet:Publish</c>): one
/// stream entry per batch of the live feed (the hub's <see cref="DeltaMessage"/> over MessagePack) in a stream capped
/// with <c>XADD MAXLEN ~</c>; a full <see cref="SnapshotMessage"/> every <see cref="FleetOptions.SnapshotInterval"/>,
/// after any gap (a failed write, a resync, a reconnect) and when a consumer asks; and a heartbeat with a TTL every
/// poll interval. Redis failing is logged once per reason and never stops the service.
/// </summary>
public sealed class FleetPublisher : BackgroundService
{
    internal static readonly MessagePackSerializerOptions Wire = MessagePackSerializerOptions.Standard;

    private readonly FleetConnection _connection;
    private readonly SnapshotFeed _feed;
    private readonly WireMapper _mapper;
    private readonly FleetIdentity _identity;
    private readonly FleetOptions _options;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger<FleetPublisher> _logger;
    private readonly HashSet<string> _reportedClaims = [];
    private int _snapshotDue = 1;
    private RedisValue _lastStreamId = "0-0";
    private long _lastPublished;
    private DateTimeOffset _lastSnapshotAt = DateTimeOffset.MinValue;
    private bool _subscribed;

    public FleetPublisher(
        FleetConnection connection,
        SnapshotFeed feed,
        WireMapper mapper,
        FleetIdentity identity,
        IOptions<PortDashboardOptions> options,
        TimeProvider time,
        ILogger<FleetPublisher> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _connection = connection;
        _feed = feed;
        _mapper = mapper;
        _identity = identity;
        _options = connection.Options;
        _interval = options.Value.PollInterval;
        _time = time;
        _logger = logger;
        _connection.Restored += () => Volatile.Write(ref _snapshotDue, 1);
    }

    /// <summary>Other agents' instance ids seen claiming this host name (logged once each).</summary>
    public IReadOnlyCollection<string> DuplicateClaims { get { lock (_reportedClaims) { return [.. _reportedClaims]; } } }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _logger.LogInformation(
            "Fleet: publishing host {Host} (instance {Instance}) to Redis at {Redis}: deltas every poll ({Interval}), a snapshot every {SnapshotInterval}, streams capped at ~{StreamLength}",
            _identity.HostName, _identity.Instance, _options.Redis, _interval, _options.SnapshotInterval, _options.StreamLength);
        var heartbeat = HeartbeatLoopAsync(stoppingToken);
        try
        {
            await foreach (var batch in _feed.SubscribeAsync(stoppingToken))
            {
                if (batch.Sequence == 0)
                {
                    continue; // nothing read yet
                }

                await PublishAsync(batch);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }

        await heartbeat;
    }

    private async Task PublishAsync(FeedBatch batch)
    {
        var keys = _connection.Keys;
        try
        {
            var db = await _connection.DatabaseAsync(CancellationToken.None);
            if (db is null)
            {
                Volatile.Write(ref _snapshotDue, 1);
                return;
            }

            if (batch.IsResync)
            {
                Volatile.Write(ref _snapshotDue, 1); // the deltas since the last one published are lost: a gap
            }
            else if (!batch.Deltas.IsEmpty && batch.Sequence > _lastPublished)
            {
                var message = FilteredDelta.ToMessage(batch.Deltas, batch.Latest, Filter.Empty, _mapper);
                _lastStreamId = await db.StreamAddAsync(
                    keys.Deltas(_identity.HostName),
                    [new NameValueEntry("i", _identity.Instance), new NameValueEntry("d", MessagePackSerializer.Serialize(message, Wire))],
                    maxLength: _options.StreamLength,
                    useApproximateMaxLength: true);
                _lastPublished = batch.Sequence;
            }

            var now = _time.GetUtcNow();
            if (Interlocked.Exchange(ref _snapshotDue, 0) == 1 || now - _lastSnapshotAt >= _options.SnapshotInterval)
            {
                var snapshot = _mapper.Snapshot(batch.Latest, batch.Sequence, Filter.Empty);
                await db.HashSetAsync(keys.Snapshot(_identity.HostName),
                [
                    new HashEntry("i", _identity.Instance),
                    new HashEntry("id", _lastStreamId),
                    new HashEntry("s", MessagePackSerializer.Serialize(snapshot, Wire)),
                ]);
                _lastPublished = batch.Sequence;
                _lastSnapshotAt = now;
            }

            _connection.Succeeded();
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            Volatile.Write(ref _snapshotDue, 1);
            _connection.Failed(e.Message);
        }
    }

    private async Task HeartbeatLoopAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_interval, _time);
        try
        {
            do
            {
                await BeatAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    private async Task BeatAsync(CancellationToken stoppingToken)
    {
        var keys = _connection.Keys;
        var host = _identity.HostName;
        try
        {
            var multiplexer = await _connection.MultiplexerAsync(stoppingToken);
            if (multiplexer is null || !multiplexer.IsConnected)
            {
                return;
            }

            if (!_subscribed)
            {
                // The client resubscribes by itself after a reconnect.
                await multiplexer.GetSubscriber().SubscribeAsync(keys.SnapshotRequests, (_, name) =>
                {
                    if (name == host)
                    {
                        Volatile.Write(ref _snapshotDue, 1);
                    }
                });
                _subscribed = true;
            }

            var db = multiplexer.GetDatabase();
            var now = _time.GetUtcNow();
            var current = _feed.Current;
            var beat = new Heartbeat(_identity.Instance, _interval.TotalMilliseconds, now, _feed.Sequence, current.Reader, current.Count);
            var ttl = _interval * Heartbeat.TtlIntervals;
            await Task.WhenAll(
                db.StringSetAsync(keys.Heartbeat(host), JsonSerializer.Serialize(beat, FleetJson.Options), ttl),
                db.HashSetAsync(keys.Claims(host), _identity.Instance, now.ToUnixTimeMilliseconds()),
                db.KeyExpireAsync(keys.Claims(host), TimeSpan.FromDays(1)),
                db.SetAddAsync(keys.Hosts, host));
            ReportDuplicates(await db.HashGetAllAsync(keys.Claims(host)), now);
            _connection.Succeeded();
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            _connection.Failed(e.Message);
        }
    }

    private void ReportDuplicates(HashEntry[] claims, DateTimeOffset now)
    {
        var window = (long)(_interval.TotalMilliseconds * Heartbeat.ClaimIntervals);
        foreach (var claim in claims)
        {
            var instance = claim.Name.ToString();
            if (instance == _identity.Instance || !claim.Value.TryParse(out long at) || now.ToUnixTimeMilliseconds() - at > window)
            {
                continue;
            }

            bool added;
            lock (_reportedClaims)
            {
                added = _reportedClaims.Add(instance);
            }

            if (added)
            {
                _logger.LogWarning(
                    "Fleet: another agent (instance {Other}) also publishes as host {Host} (this one is {Instance}); their tables would mix, so dashboards report the host as claimed twice. Give each agent its own {Key}",
                    instance, _identity.HostName, _identity.Instance, FleetOptions.SectionName + ":HostName");
            }
        }
    }
}

/// <summary>The fleet's JSON (heartbeats): camelCase like the API.</summary>
internal static class FleetJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}
