using System.Collections.Immutable;
using System.Globalization;
using Microsoft.Data.Sqlite;
using PortDashboard.Core.Filtering;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;
using PortDashboard.Insight.Listeners;
using PortDashboard.Insight.ShortLived;
using Endpoint = PortDashboard.Core.Sockets.Endpoint;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Insight.History;

/// <summary>
/// The history database: one SQLite file in WAL mode (readers never wait for the writer), a row per socket with its
/// birth and death (unix milliseconds), the listener events and the saved listener baseline. The
/// <see cref="HistoryWriter"/> is its only writer of sockets; pages and the API read through the query methods here,
/// each on its own short-lived connection.
/// </summary>
public sealed class HistoryStore
{
    private const int SchemaVersion = 1;

    public HistoryStore(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = System.IO.Path.GetFullPath(path);
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false, // a stopped app leaves no handle on the file (tests start a second app on it)
            DefaultTimeout = 30,
        };
        _createString = builder.ToString();

        // Every connection but the one that creates the file: a reader after the file was deleted fails with a clear
        // error instead of leaving an empty file without tables where the writer will create its new one.
        builder.Mode = SqliteOpenMode.ReadWrite;
        ConnectionString = builder.ToString();
    }

    private readonly string _createString;

    public string Path { get; }

    internal string ConnectionString { get; }

    /// <summary>Creates the folder, the file and the schema if missing, in WAL mode; returns what a previous run left.</summary>
    internal HistoryResume Initialize()
    {
        if (System.IO.Path.GetDirectoryName(Path) is { Length: > 0 } folder)
        {
            Directory.CreateDirectory(folder);
        }

        using var connection = Open(_createString);
        Execute(connection, "PRAGMA auto_vacuum = INCREMENTAL;"); // takes effect on a new file only; pruning then gives pages back
        var mode = Scalar(connection, "PRAGMA journal_mode = WAL;");
        if (!string.Equals(mode as string, "wal", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"{Path} could not be put in WAL mode (journal mode is {mode})");
        }

        Execute(connection, """
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS sockets (
                id INTEGER PRIMARY KEY,
                kind INTEGER NOT NULL,
                protocol INTEGER NOT NULL,
                family INTEGER NOT NULL,
                local_address TEXT NOT NULL,
                local_port INTEGER NOT NULL,
                remote_address TEXT NOT NULL,
                remote_port INTEGER NOT NULL,
                inode INTEGER NOT NULL,
                uid INTEGER NOT NULL,
                state INTEGER NOT NULL,
                final_state INTEGER,
                pid INTEGER,
                process TEXT,
                user TEXT,
                owner_source INTEGER NOT NULL DEFAULT 0,
                born_at INTEGER NOT NULL,
                died_at INTEGER,
                died_unwatched INTEGER NOT NULL DEFAULT 0,
                netns INTEGER NOT NULL DEFAULT 0
            );
            CREATE INDEX IF NOT EXISTS sockets_born_at ON sockets (born_at);
            CREATE INDEX IF NOT EXISTS sockets_died_at ON sockets (died_at);
            CREATE TABLE IF NOT EXISTS listener_events (
                id INTEGER PRIMARY KEY,
                at INTEGER NOT NULL,
                change INTEGER NOT NULL,
                protocol INTEGER NOT NULL,
                address TEXT NOT NULL,
                port INTEGER NOT NULL,
                owners TEXT NOT NULL,
                in_ephemeral_range INTEGER NOT NULL,
                exposed INTEGER NOT NULL
            );
            CREATE INDEX IF NOT EXISTS listener_events_at ON listener_events (at);
            CREATE TABLE IF NOT EXISTS listener_baseline (
                protocol INTEGER NOT NULL,
                address TEXT NOT NULL,
                port INTEGER NOT NULL,
                owners TEXT NOT NULL,
                in_ephemeral_range INTEGER NOT NULL,
                exposed INTEGER NOT NULL,
                PRIMARY KEY (protocol, address, port)
            );
            """);
        // Files written before sockets carried a network namespace lack the column: every row they hold is the host's (0).
        if (Convert.ToInt64(Scalar(connection, "SELECT COUNT(*) FROM pragma_table_info('sockets') WHERE name = 'netns';"), CultureInfo.InvariantCulture) == 0)
        {
            Execute(connection, "ALTER TABLE sockets ADD COLUMN netns INTEGER NOT NULL DEFAULT 0;");
        }

        var version = Scalar(connection, "SELECT value FROM meta WHERE key = 'schema_version';") as string;
        if (version is null)
        {
            Execute(connection, $"INSERT INTO meta (key, value) VALUES ('schema_version', '{SchemaVersion}');");
        }
        else if (version != SchemaVersion.ToString(CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException($"{Path} has history schema version {version}; this PortDashboard reads version {SchemaVersion}. Move the file away to start a new history.");
        }

        return LoadResume(connection);
    }

    internal SqliteConnection Open() => Open(ConnectionString);

    private static SqliteConnection Open(string connectionString)
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        Execute(connection, "PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 30000;");
        return connection;
    }

    private static HistoryResume LoadResume(SqliteConnection connection)
    {
        var nextId = Convert.ToInt64(Scalar(connection, "SELECT COALESCE(MAX(id), 0) + 1 FROM sockets;"), CultureInfo.InvariantCulture);
        var heartbeat = Scalar(connection, "SELECT value FROM meta WHERE key = 'heartbeat';") is string text
            && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms)
                ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
                : (DateTimeOffset?)null;

        var open = ImmutableArray.CreateBuilder<OpenRow>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT id, protocol, family, local_address, local_port, remote_address, remote_port, inode, state, born_at, netns FROM sockets WHERE died_at IS NULL;";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var protocol = (TransportProtocol)reader.GetInt32(1);
                var family = (IpVersion)reader.GetInt32(2);
                open.Add(new OpenRow(
                    reader.GetInt64(0),
                    new SocketKey(protocol, ReadEndpoint(reader, 3, family), ReadEndpoint(reader, 5, family), reader.GetInt64(7), reader.GetInt64(10)),
                    (SocketState)reader.GetInt32(8),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9))));
            }
        }

        var events = ImmutableArray.CreateBuilder<ListenerEvent>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"SELECT at, change, protocol, address, port, owners, in_ephemeral_range, exposed FROM (SELECT * FROM listener_events ORDER BY id DESC LIMIT {ListenerWatch.MaxEvents}) ORDER BY id;";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                events.Add(new ListenerEvent(
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)),
                    (ListenerChange)reader.GetInt32(1),
                    ReadListener(reader, 2),
                    reader.GetString(5),
                    new ListenerFlags(reader.GetBoolean(6), reader.GetBoolean(7))));
            }
        }

        return new HistoryResume(nextId, heartbeat, open.ToImmutable(), events.ToImmutable(), LoadBaseline(connection));
    }

    private static ListenerBaseline? LoadBaseline(SqliteConnection connection)
    {
        if (Scalar(connection, "SELECT value FROM meta WHERE key = 'baseline_saved_at';") is not string savedText
            || !long.TryParse(savedText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var savedMs))
        {
            return null;
        }

        var listeners = ImmutableArray.CreateBuilder<ListenerInfo>();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT protocol, address, port, owners, in_ephemeral_range, exposed FROM listener_baseline ORDER BY port, protocol;";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            listeners.Add(new ListenerInfo(ReadListener(reader, 0), reader.GetString(3), new ListenerFlags(reader.GetBoolean(4), reader.GetBoolean(5))));
        }

        return new ListenerBaseline(DateTimeOffset.FromUnixTimeMilliseconds(savedMs), listeners.ToImmutable());
    }

    /// <summary>Replaces the saved listener baseline.</summary>
    public async Task SaveBaselineAsync(ListenerBaseline baseline, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        await using var connection = Open();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        Execute(connection, "DELETE FROM listener_baseline;", transaction);
        await using (var insert = connection.CreateCommand())
        {
            insert.Transaction = transaction;
            insert.CommandText = "INSERT OR REPLACE INTO listener_baseline (protocol, address, port, owners, in_ephemeral_range, exposed) VALUES ($protocol, $address, $port, $owners, $ephemeral, $exposed);";
            var protocol = insert.Parameters.Add("$protocol", SqliteType.Integer);
            var address = insert.Parameters.Add("$address", SqliteType.Text);
            var port = insert.Parameters.Add("$port", SqliteType.Integer);
            var owners = insert.Parameters.Add("$owners", SqliteType.Text);
            var ephemeral = insert.Parameters.Add("$ephemeral", SqliteType.Integer);
            var exposed = insert.Parameters.Add("$exposed", SqliteType.Integer);
            foreach (var listener in baseline.Listeners)
            {
                protocol.Value = (int)listener.Id.Protocol;
                address.Value = AddressText(listener.Id.Address);
                port.Value = listener.Id.Port;
                owners.Value = listener.Owners;
                ephemeral.Value = listener.Flags.InEphemeralRange;
                exposed.Value = listener.Flags.Exposed;
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        SetMeta(connection, transaction, "baseline_saved_at", baseline.SavedAt.ToUnixTimeMilliseconds());
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// The sockets alive at <paramref name="at"/> (born at or before it, not dead by then) that match <paramref name="filter"/>;
    /// <c>range=os-ephemeral,privileged</c> judged by <paramref name="policy"/> (this machine's; Linux's defaults when null).
    /// </summary>
    public Task<HistoryPage> AliveAtAsync(DateTimeOffset at, Filter filter, ServiceNameRegistry? services, OsPortPolicy? policy, int limit, CancellationToken cancellationToken = default)
    {
        var t = at.ToUnixTimeMilliseconds();
        return QueryRowsAsync(
            $"WHERE born_at <= {t} AND (died_at IS NULL OR died_at > {t}) AND kind <> {(int)HistoryKind.ShortLived} ORDER BY born_at DESC, id DESC",
            filter, services, policy, limit, cancellationToken);
    }

    /// <summary>The sockets born or dead from <paramref name="from"/> (inclusive) to <paramref name="to"/> (exclusive) that match <paramref name="filter"/>.</summary>
    public Task<HistoryPage> ChangedBetweenAsync(DateTimeOffset from, DateTimeOffset to, Filter filter, ServiceNameRegistry? services, OsPortPolicy? policy, int limit, CancellationToken cancellationToken = default)
    {
        var (f, t) = (from.ToUnixTimeMilliseconds(), to.ToUnixTimeMilliseconds());
        return QueryRowsAsync(
            $"WHERE (born_at >= {f} AND born_at < {t}) OR (died_at >= {f} AND died_at < {t}) ORDER BY id",
            filter, services, policy, limit, cancellationToken);
    }

    private async Task<HistoryPage> QueryRowsAsync(string where, Filter filter, ServiceNameRegistry? services, OsPortPolicy? policy, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var rows = new List<HistoryRow>();
        var truncated = false;
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, kind, protocol, family, local_address, local_port, remote_address, remote_port, inode, uid,
                   state, final_state, pid, process, user, owner_source, born_at, died_at, died_unwatched, netns
            FROM sockets
            """ + " " + where + ";";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var row = ReadRow(reader);
            if (!filter.Matches(row.Socket, services, policy))
            {
                continue;
            }

            if (rows.Count == limit)
            {
                truncated = true;
                break;
            }

            rows.Add(row);
        }

        return new HistoryPage(rows, truncated);
    }

    /// <summary>Sockets opened and closed per minute from <paramref name="from"/> to <paramref name="to"/>, every minute present.</summary>
    public async Task<IReadOnlyList<MinuteCounts>> PerMinuteAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default)
    {
        var first = from.ToUnixTimeMilliseconds() / 60_000;
        var last = (to.ToUnixTimeMilliseconds() - 1) / 60_000;
        if (last < first)
        {
            return [];
        }

        var opened = new Dictionary<long, int>();
        var closed = new Dictionary<long, int>();
        await using var connection = Open();
        await ReadCountsAsync(connection, $"SELECT born_at / 60000, COUNT(*) FROM sockets WHERE born_at >= {first * 60_000} AND born_at < {(last + 1) * 60_000} AND kind <> {(int)HistoryKind.OpenAtStart} GROUP BY 1;", opened, cancellationToken);
        await ReadCountsAsync(connection, $"SELECT died_at / 60000, COUNT(*) FROM sockets WHERE died_at >= {first * 60_000} AND died_at < {(last + 1) * 60_000} AND died_unwatched = 0 GROUP BY 1;", closed, cancellationToken);
        var minutes = new List<MinuteCounts>((int)(last - first + 1));
        for (var minute = first; minute <= last; minute++)
        {
            minutes.Add(new MinuteCounts(DateTimeOffset.FromUnixTimeMilliseconds(minute * 60_000), opened.GetValueOrDefault(minute), closed.GetValueOrDefault(minute)));
        }

        return minutes;
    }

    private static async Task ReadCountsAsync(SqliteConnection connection, string sql, Dictionary<long, int> into, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            into[reader.GetInt64(0)] = reader.GetInt32(1);
        }
    }

    /// <summary>
    /// Per process, how long its sockets lived, for the sockets that died from <paramref name="from"/> to
    /// <paramref name="to"/>: those born while watched, not TIME_WAIT (which has no owner), most sockets first.
    /// </summary>
    public async Task<IReadOnlyList<ProcessLifetimes>> LifetimesAsync(DateTimeOffset from, DateTimeOffset to, int top, CancellationToken cancellationToken = default)
    {
        var counts = new Dictionary<string, int[]>(StringComparer.Ordinal);
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT COALESCE(process, ''), {LifetimeBuckets.SqlCase()} AS bucket, COUNT(*)
            FROM sockets
            WHERE died_at >= {from.ToUnixTimeMilliseconds()} AND died_at < {to.ToUnixTimeMilliseconds()}
              AND kind <> {(int)HistoryKind.OpenAtStart} AND state <> {(int)SocketState.TimeWait} AND died_unwatched = 0
            GROUP BY 1, 2;
            """;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var process = reader.GetString(0);
            if (!counts.TryGetValue(process, out var buckets))
            {
                counts[process] = buckets = new int[LifetimeBuckets.Labels.Length];
            }

            buckets[reader.GetInt32(1)] += reader.GetInt32(2);
        }

        return [.. counts
            .Select(pair => new ProcessLifetimes(pair.Key.Length == 0 ? "(unknown)" : pair.Key, [.. pair.Value]))
            .OrderByDescending(p => p.Total)
            .ThenBy(p => p.Process, StringComparer.Ordinal)
            .Take(top)];
    }

    /// <summary>How many sockets the file holds and when the oldest was born.</summary>
    public async Task<HistoryExtent> ExtentAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*), MIN(born_at) FROM sockets;";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var rows = reader.GetInt64(0);
        var oldest = reader.IsDBNull(1) ? (DateTimeOffset?)null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1));
        return new HistoryExtent(rows, oldest, FileBytes());
    }

    /// <summary>The size of the database and its write-ahead log, in bytes.</summary>
    public long FileBytes()
    {
        long Size(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;
        return Size(Path) + Size(Path + "-wal");
    }

    private static HistoryRow ReadRow(SqliteDataReader reader)
    {
        var kind = (HistoryKind)reader.GetInt32(1);
        var protocol = (TransportProtocol)reader.GetInt32(2);
        var family = (IpVersion)reader.GetInt32(3);
        var uid = reader.GetInt32(9);
        ImmutableArray<ProcessInfo> owners = reader.IsDBNull(12)
            ? []
            : [new ProcessInfo(reader.GetInt32(12), 0, reader.GetString(13), uid, reader.IsDBNull(14) ? uid.ToString(CultureInfo.InvariantCulture) : reader.GetString(14))];
        var socket = new Socket(
            protocol, family, ReadEndpoint(reader, 4, family), ReadEndpoint(reader, 6, family),
            (SocketState)reader.GetInt32(10), reader.GetInt64(8), uid, owners: owners, netNamespace: NamespaceOf(reader.GetInt64(19)));
        return new HistoryRow(
            reader.GetInt64(0),
            kind,
            socket,
            reader.IsDBNull(11) ? null : (SocketState)reader.GetInt32(11),
            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(16)),
            reader.IsDBNull(17) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(17)),
            reader.GetBoolean(18),
            (OwnerSource)reader.GetInt32(15));
    }

    /// <summary>
    /// The namespace a row was recorded in: the host's for 0; another's by its inode only (the history keeps no names, so
    /// <c>netns=</c> finds it by its inode or <c>net:[inode]</c>).
    /// </summary>
    private static NetNamespace NamespaceOf(long inode) =>
        inode == 0 ? NetNamespace.Host : new NetNamespace(inode, NetNamespace.InodeName(inode));

    private static Endpoint ReadEndpoint(SqliteDataReader reader, int addressColumn, IpVersion family)
    {
        var address = ParseAddress(reader.GetString(addressColumn), family);
        return new Endpoint(address, reader.GetInt32(addressColumn + 1));
    }

    private static ListenerId ReadListener(SqliteDataReader reader, int protocolColumn)
    {
        var text = reader.GetString(protocolColumn + 1);
        return new ListenerId(
            (TransportProtocol)reader.GetInt32(protocolColumn),
            ParseAddress(text, text.Contains(':', StringComparison.Ordinal) ? IpVersion.IPv6 : IpVersion.IPv4),
            reader.GetInt32(protocolColumn + 2));
    }

    private static NetAddress ParseAddress(string text, IpVersion family) =>
        NetAddress.TryParse(text, out var address) ? address
        : family == IpVersion.IPv6 ? NetAddress.AnyV6 : NetAddress.AnyV4;

    /// <summary>The address as stored: <c>0.0.0.0</c> and <c>::</c> for wildcards, so the family survives.</summary>
    internal static string AddressText(NetAddress address) => address.ToString("n", CultureInfo.InvariantCulture);

    internal static void SetMeta(SqliteConnection connection, SqliteTransaction? transaction, string key, long value)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO meta (key, value) VALUES ($key, $value) ON CONFLICT(key) DO UPDATE SET value = excluded.value;";
        command.Parameters.AddWithValue("$key", key);
        command.Parameters.AddWithValue("$value", value.ToString(CultureInfo.InvariantCulture));
        command.ExecuteNonQuery();
    }

    internal static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    internal static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}

/// <summary>Rows of a history query, and whether more matched than the limit.</summary>
public sealed record HistoryPage(IReadOnlyList<HistoryRow> Rows, bool Truncated);

/// <summary>How much history the file holds.</summary>
public sealed record HistoryExtent(long Rows, DateTimeOffset? OldestBirth, long FileBytes);
