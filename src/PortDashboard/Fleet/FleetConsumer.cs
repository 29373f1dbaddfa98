using System.Collections.Immutable;
using System.Text.Json;
using MessagePack;
using PortDashboard.Api;
using StackExchange.Redis;

namespace PortDashboard.Fleet;

/// <summary>
/// A dashboard node's reader of the fleet: every <see cref="Round"/> it lists the hosts, reads their heartbeats and
/// claims, and reads every host's delta stream from the last id it applied. A host's table starts from its snapshot;
/// a delta that does not follow (another agent instance, a trimmed stream, lost writes, a Redis restart) makes it
/// reload a fresh snapshot, asking the agent for one when the stored one is the one it already had. Each node reads
/// for itself: nothing here depends on other dashboard nodes.
/// </summary>
public sealed class FleetConsumer : BackgroundService
{
    /// <summary>How often the streams are read: the delay a delta adds beyond the agent's poll.</summary>
    public static readonly TimeSpan Round = TimeSpan.FromMilliseconds(250);

    /// <summary>A heartbeat older than this many of its intervals marks the host stale.</summary>
    public const double StaleIntervals = 1.5;

    private readonly FleetConnection _connection;
    private readonly FleetStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<FleetConsumer> _logger;
    private readonly Dictionary<string, Cursor> _cursors = new(StringComparer.Ordinal);
    private int _reloadAll;

    public FleetConsumer(FleetConnection connection, FleetStore store, TimeProvider time, ILogger<FleetConsumer> logger)
    {
        _connection = connection;
        _store = store;
        _time = time;
        _logger = logger;
        _connection.Restored += () => Volatile.Write(ref _reloadAll, 1);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _logger.LogInformation("Fleet: reading every host's table from Redis at {Redis}", _connection.Options.Redis);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await RoundAsync(stoppingToken);
                await Task.Delay(Round, _time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    internal async Task RoundAsync(CancellationToken stoppingToken)
    {
        var wasConnected = _connection.IsConnected;
        var changed = false;
        try
        {
            var db = await _connection.DatabaseAsync(stoppingToken);
            if (db is null)
            {
                changed = MarkAllNotLive();
                return;
            }

            if (Interlocked.Exchange(ref _reloadAll, 0) == 1)
            {
                foreach (var cursor in _cursors.Values)
                {
                    cursor.NeedsSnapshot = true;
                    cursor.Loaded = default; // Redis may have restarted empty: any snapshot is news
                }
            }

            var keys = _connection.Keys;
            foreach (var member in await db.SetMembersAsync(keys.Hosts))
            {
                var name = member.ToString();
                if (!_cursors.ContainsKey(name))
                {
                    _cursors[name] = new Cursor();
                    var found = FleetHost.New(name);
                    _store.Set(found, [new FleetHostStatusChanged(found)]);
                    changed = true;
                }
            }

            var names = _cursors.Keys.ToList();
            var beats = names.Select(n => db.StringGetWithExpiryAsync(keys.Heartbeat(n))).ToList();
            var claims = names.Select(n => db.HashGetAllAsync(keys.Claims(n))).ToList();
            await Task.WhenAll(beats.Cast<Task>().Concat(claims));
            for (var i = 0; i < names.Count; i++)
            {
                changed |= UpdateLiveness(names[i], beats[i].Result, claims[i].Result);
            }

            foreach (var name in names.Where(n => _cursors[n].NeedsSnapshot))
            {
                changed |= await LoadSnapshotAsync(db, name);
            }

            var reading = names.Where(n => !_cursors[n].NeedsSnapshot).ToList();
            if (reading.Count > 0)
            {
                var positions = reading.Select(n => new StreamPosition(keys.Deltas(n), _cursors[n].LastId)).ToArray();
                foreach (var stream in await db.StreamReadAsync(positions, countPerStream: 1000))
                {
                    var name = reading[Array.FindIndex(positions, p => p.Key == stream.Key)];
                    changed |= await ApplyAsync(db, name, stream.Entries);
                }
            }

            _connection.Succeeded();
        }
        catch (Exception e) when (e is RedisException or TimeoutException or MessagePackSerializationException or JsonException)
        {
            _connection.Failed(e.Message);
            changed |= MarkAllNotLive();
        }
        finally
        {
            if (changed || wasConnected != _connection.IsConnected)
            {
                _store.NotifyChanged();
            }
        }
    }

    private bool UpdateLiveness(string name, RedisValueWithExpiry beat, HashEntry[] claims)
    {
        var host = _store.Hosts[name];
        var cursor = _cursors[name];
        Heartbeat? heartbeat = null;
        if (!beat.Value.IsNull)
        {
            heartbeat = JsonSerializer.Deserialize<Heartbeat>(beat.Value.ToString(), FleetJson.Options);
        }

        var status = FleetHostStatus.Offline;
        if (heartbeat is not null)
        {
            var interval = TimeSpan.FromMilliseconds(heartbeat.IntervalMs);
            var age = interval * Heartbeat.TtlIntervals - (beat.Expiry ?? TimeSpan.Zero);
            status = host.InSync && age <= interval * StaleIntervals ? FleetHostStatus.Online : FleetHostStatus.Stale;
            if (host.Instance is not null && heartbeat.Instance != host.Instance && !cursor.NeedsSnapshot)
            {
                // Another agent instance publishes this host now (a restart): its table starts from its snapshot.
                cursor.NeedsSnapshot = true;
                status = FleetHostStatus.Stale;
            }
        }

        var instances = Live(claims, heartbeat);
        if (instances.Length > 1 && !host.Duplicate)
        {
            _logger.LogWarning(
                "Fleet: host {Host} is claimed by {Count} agent instances ({Instances}); their tables mix: give each agent its own {Key}",
                name, instances.Length, string.Join(", ", instances), FleetOptions.SectionName + ":HostName");
        }

        var updated = host with
        {
            Status = status,
            Beat = heartbeat ?? host.Beat,
            LastSeen = heartbeat?.At ?? host.LastSeen,
            Instances = instances,
        };
        if (updated.Status == host.Status && updated.LastSeen == host.LastSeen && updated.Instances.SequenceEqual(host.Instances))
        {
            return false;
        }

        if (updated.Status != host.Status)
        {
            _logger.LogInformation("Fleet: host {Host} is {Status}", name, updated.Status.ToString().ToLowerInvariant());
        }

        _store.Set(updated, updated.Status == host.Status ? [] : [new FleetHostStatusChanged(updated)]);
        return true;
    }

    /// <summary>The instances whose claim is within <see cref="Heartbeat.ClaimIntervals"/> of the newest.</summary>
    private static ImmutableArray<string> Live(HashEntry[] claims, Heartbeat? heartbeat)
    {
        if (claims.Length == 0 || heartbeat is null)
        {
            return heartbeat is null ? [] : [heartbeat.Instance];
        }

        var window = (long)(heartbeat.IntervalMs * Heartbeat.ClaimIntervals);
        var times = claims.Select(c => (Instance: c.Name.ToString(), At: c.Value.TryParse(out long at) ? at : 0)).ToList();
        var newest = times.Max(t => t.At);
        return [.. times.Where(t => newest - t.At <= window).Select(t => t.Instance).Order(StringComparer.Ordinal)];
    }

    private async Task<bool> LoadSnapshotAsync(IDatabase db, string name)
    {
        var cursor = _cursors[name];
        var fields = (await db.HashGetAllAsync(_connection.Keys.Snapshot(name))).ToDictionary(e => e.Name.ToString(), e => e.Value);
        if (!fields.TryGetValue("s", out var body) || !fields.TryGetValue("i", out var instance))
        {
            await RequestSnapshotAsync(db, name, cursor);
            return false;
        }

        var message = MessagePackSerializer.Deserialize<SnapshotMessage>((byte[])body!, FleetPublisher.Wire);
        var loaded = (instance.ToString(), message.Sequence);
        if (cursor.Loaded == loaded)
        {
            await RequestSnapshotAsync(db, name, cursor); // the one already tried: wait for a fresher one
            return false;
        }

        var host = _store.Hosts[name];
        var sockets = message.Sockets.ToImmutableDictionary(s => s.Id, FleetSocket.From, StringComparer.Ordinal);
        var reloaded = host with
        {
            Instance = loaded.Item1,
            Sequence = message.Sequence,
            Metadata = message.Metadata,
            Sockets = sockets,
            InSync = true,
            Resyncs = host.Resyncs + 1,
        };
        _store.Set(reloaded, [new FleetHostLoaded(reloaded)]);
        cursor.Loaded = loaded;
        cursor.LastId = fields.TryGetValue("id", out var id) && !id.IsNullOrEmpty ? id : "0-0";
        cursor.NeedsSnapshot = false;
        _logger.LogDebug("Fleet: host {Host} loaded from its snapshot at sequence {Sequence} ({Sockets} sockets)", name, message.Sequence, sockets.Count);
        return true;
    }

    private async Task<bool> ApplyAsync(IDatabase db, string name, StreamEntry[] entries)
    {
        var cursor = _cursors[name];
        var host = _store.Hosts[name];
        var sockets = host.Sockets.ToBuilder();
        var sequence = host.Sequence;
        var applied = new List<(DeltaMessage Message, ImmutableDictionary<string, FleetSocket> Before)>();
        foreach (var entry in entries)
        {
            var instance = entry["i"].ToString();
            var message = MessagePackSerializer.Deserialize<DeltaMessage>((byte[])entry["d"]!, FleetPublisher.Wire);
            if (instance == host.Instance && message.ToSequence <= sequence)
            {
                cursor.LastId = entry.Id; // already in the snapshot it started from
                continue;
            }

            if (instance != host.Instance || message.FromSequence != sequence + 1)
            {
                _logger.LogInformation(
                    "Fleet: host {Host}'s stream does not follow (have {Instance}#{Sequence}, next is {NextInstance}#{From}); reloading its snapshot",
                    name, host.Instance, sequence, instance, message.FromSequence);
                cursor.NeedsSnapshot = true;
                var behind = host with { Sockets = sockets.ToImmutable(), Sequence = sequence, InSync = false, Status = FleetHostStatus.Stale };
                _store.Set(behind, Events(behind, applied, host.Status != FleetHostStatus.Stale));
                await RequestSnapshotAsync(db, name, cursor);
                return true;
            }

            var before = sockets.ToImmutable();
            foreach (var id in message.Removed)
            {
                sockets.Remove(id);
            }

            foreach (var dto in message.Added.Concat(message.Changed))
            {
                sockets[dto.Id] = FleetSocket.From(dto);
            }

            sequence = message.ToSequence;
            cursor.LastId = entry.Id;
            applied.Add((message, before));
        }

        if (applied.Count > 0)
        {
            var after = _store.Hosts[name] with { Sockets = sockets.ToImmutable(), Sequence = sequence };
            _store.Set(after, Events(after, applied, statusChanged: false));
        }

        return applied.Count > 0;
    }

    /// <summary>The hub's view of a round's deltas: each as the agent wrote it, with the table just before it.</summary>
    private static List<FleetEvent> Events(FleetHost after, List<(DeltaMessage Message, ImmutableDictionary<string, FleetSocket> Before)> applied, bool statusChanged)
    {
        var events = new List<FleetEvent>(applied.Count + 1);
        events.AddRange(applied.Select(a => new FleetHostDelta(after, a.Message, a.Before)));
        if (statusChanged)
        {
            events.Add(new FleetHostStatusChanged(after));
        }

        return events;
    }

    private async Task RequestSnapshotAsync(IDatabase db, string name, Cursor cursor)
    {
        var now = _time.GetUtcNow();
        if (now - cursor.LastRequest < TimeSpan.FromSeconds(1))
        {
            return;
        }

        cursor.LastRequest = now;
        await db.PublishAsync(_connection.Keys.SnapshotRequests, name);
    }

    /// <summary>Without Redis nothing is known to be live: every host that was online is shown stale.</summary>
    private bool MarkAllNotLive()
    {
        var changed = false;
        foreach (var host in _store.Hosts.Values.Where(h => h.Status == FleetHostStatus.Online))
        {
            var stale = host with { Status = FleetHostStatus.Stale };
            _store.Set(stale, [new FleetHostStatusChanged(stale)]);
            changed = true;
        }

        return changed;
    }

    private sealed class Cursor
    {
        public bool NeedsSnapshot { get; set; } = true;

        public RedisValue LastId { get; set; } = "0-0";

        public (string Instance, long Sequence) Loaded { get; set; }

        public DateTimeOffset LastRequest { get; set; } = DateTimeOffset.MinValue;
    }
}
