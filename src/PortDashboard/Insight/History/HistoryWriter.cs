using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using PortDashboard.Core.Sockets;
using PortDashboard.Insight.ShortLived;

namespace PortDashboard.Insight.History;

/// <summary>
/// The one writer of the history database: the insight loop queues births, deaths and events on a bounded channel
/// and this loop writes them in transactions of up to <see cref="HistoryOptions.BatchSize"/>, with prepared
/// statements; each transaction also deletes the oldest rows beyond <see cref="HistoryOptions.MaxRows"/>, and every
/// <see cref="HistoryOptions.PruneInterval"/> the sockets dead for longer than <see cref="HistoryOptions.MaxAge"/> go. The snapshot service never waits for it: only the insight loop does, when the
/// queue is full. On stop it writes what is queued before closing the file.
/// </summary>
public sealed class HistoryWriter : BackgroundService
{
    private readonly HistoryOptions _options;
    private readonly InsightMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<HistoryWriter> _logger;
    private readonly InsightState? _state;
    private readonly Channel<HistoryOp> _queue;
    private readonly TaskCompletionSource<HistoryStore?> _store = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _written;
    private long _rows; // sockets in the file: counted at start, then kept up to date by the writes and the pruning
    private long _pruned;
    private long _queued;
    private int _running;
    private HistoryWriteHealth _health = HistoryWriteHealth.Healthy;

    public HistoryWriter(IOptions<InsightOptions> options, InsightMetrics metrics, TimeProvider time, ILogger<HistoryWriter> logger, InsightState? state = null)
    {
        _state = state;
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value.History;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _queue = Channel.CreateBounded<HistoryOp>(new BoundedChannelOptions(_options.QueueCapacity)
        {
            SingleReader = true,
            SingleWriter = false, // the insight loop, and a flush from elsewhere
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>Writes applied since start.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Writes waiting in the queue.</summary>
    public long Queued => Math.Max(0, Interlocked.Read(ref _queued));

    /// <summary>Rows deleted by the age and count bounds since start.</summary>
    public long Pruned => Interlocked.Read(ref _pruned);

    /// <summary>The last write's error while it lasts, and the records failed writes dropped.</summary>
    public HistoryWriteHealth Health => Volatile.Read(ref _health);

    /// <summary>Called once by the insight loop when the database is open (or null when history is off).</summary>
    internal void Attach(HistoryStore? store) => _store.TrySetResult(store);

    /// <summary>Queues a write; waits only when the queue is full.</summary>
    internal ValueTask EnqueueAsync(HistoryOp op, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _queued);
        return _queue.Writer.TryWrite(op) ? ValueTask.CompletedTask : _queue.Writer.WriteAsync(op, cancellationToken);
    }

    /// <summary>Completes once everything queued before the call is in the database (or was dropped by a failed write).</summary>
    internal async Task FlushAsync(CancellationToken cancellationToken)
    {
        var flush = new FlushOp(new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        try
        {
            await _queue.Writer.WriteAsync(flush, cancellationToken);
        }
        catch (ChannelClosedException)
        {
            return; // history is off, or the writer has stopped: nothing is waiting
        }

        await flush.Done.Task.WaitAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Interlocked.Exchange(ref _running, 1) == 0 ? RunAsync(stoppingToken) : Task.CompletedTask;

    /// <summary>
    /// A background service stopped before its loop got a thread never runs it (its task is cancelled first): then
    /// what was queued is written here, so a quick stop loses nothing either.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (Interlocked.Exchange(ref _running, 1) == 0)
        {
            await RunAsync(new CancellationToken(canceled: true));
        }
    }

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        HistoryStore? store;
        try
        {
            // Attached already (the usual case): go on even if stopping was asked before this loop ran, so the queue is written.
            store = _store.Task.IsCompleted ? await _store.Task : await _store.Task.WaitAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        if (store is null)
        {
            _queue.Writer.TryComplete();
            return;
        }

        var open = new OpenFile(store.Open());
        try
        {
            await WriteLoopAsync(store, open, stoppingToken);
        }
        finally
        {
            open.Dispose();
        }

        _queue.Writer.TryComplete();
        while (_queue.Reader.TryRead(out var left))
        {
            (left as FlushOp)?.Done.TrySetResult(); // queued after the last write: nothing more will be written
        }
    }

    private async Task WriteLoopAsync(HistoryStore store, OpenFile open, CancellationToken stoppingToken)
    {
        CountRows(open.Connection);
        var nextPrune = _time.GetUtcNow() + _options.PruneInterval;
        var batch = new List<HistoryOp>(_options.BatchSize);
        var stopping = false;
        while (true)
        {
            try
            {
                if (!stopping && !await _queue.Reader.WaitToReadAsync(stoppingToken))
                {
                    break;
                }
            }
            catch (OperationCanceledException)
            {
                stopping = true; // write what is queued, then stop
            }

            batch.Clear();
            while (batch.Count < _options.BatchSize && _queue.Reader.TryRead(out var op))
            {
                batch.Add(op);
            }

            if (batch.Count > 0)
            {
                if (!File.Exists(store.Path))
                {
                    Reopen(store, open);
                }

                Write(open.Connection, open.Statements, batch);
            }

            // A clock set back must not leave the pruning waiting for the old time: then it is due at once.
            var now = _time.GetUtcNow();
            if (now >= nextPrune || nextPrune - now > _options.PruneInterval)
            {
                Prune(open.Connection, now);
                nextPrune = now + _options.PruneInterval;
            }

            if (stopping && batch.Count == 0)
            {
                break;
            }
        }
    }

    private void CountRows(SqliteConnection connection)
    {
        _rows = Convert.ToInt64(HistoryStore.Scalar(connection, "SELECT COUNT(*) FROM sockets;"), System.Globalization.CultureInfo.InvariantCulture);
        _metrics.HistoryRows(_rows);
    }

    /// <summary>
    /// The file was deleted while open: writing on would go to the unlinked inode, gone at the next start, and readers
    /// would find nothing. A new file is created at the path (the rows of the deleted one are lost with it; births
    /// from now on are kept). When the new file cannot be created either, the next batch tries again.
    /// </summary>
    private void Reopen(HistoryStore store, OpenFile open)
    {
        try
        {
            store.Initialize();
            open.Replace(store.Open());
            CountRows(open.Connection);
            SetHealth(Health with { Reopened = Health.Reopened + 1 });
            _logger.LogWarning("The history file {Path} was deleted while PortDashboard ran; a new one was started (the deleted one's rows are gone)", store.Path);
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            _logger.LogError(e, "The history file {Path} was deleted and could not be created again; retrying at the next batch", store.Path);
        }
    }

    private void SetHealth(HistoryWriteHealth health)
    {
        Volatile.Write(ref _health, health);
        _state?.SetWriteHealth(health);
    }

    private void Write(SqliteConnection connection, Statements statements, List<HistoryOp> batch)
    {
        var started = Stopwatch.GetTimestamp();
        DateTimeOffset? heartbeat = null;
        var flushes = new List<FlushOp>();
        try
        {
            using var transaction = connection.BeginTransaction();
            statements.Use(transaction);
            var inserted = 0;
            foreach (var op in batch)
            {
                switch (op)
                {
                    case InsertSocketOp insert:
                        statements.Insert(insert);
                        inserted++;
                        break;
                    case CloseSocketOp close:
                        statements.Close(close);
                        break;
                    case ListenerEventOp listener:
                        statements.ListenerEvent(listener.Event);
                        break;
                    case HeartbeatOp beat:
                        heartbeat = beat.At;
                        break;
                    case FlushOp flush:
                        flushes.Add(flush);
                        break;
                }
            }

            if (heartbeat is { } at)
            {
                HistoryStore.SetMeta(connection, transaction, "heartbeat", at.ToUnixTimeMilliseconds());
            }

            // Keep to the row bound in the same transaction: a reader never sees more than MaxRows.
            var excess = _rows + inserted - _options.MaxRows;
            var deleted = excess > 0 ? statements.DeleteOldest(excess) : 0;
            transaction.Commit();
            _rows += inserted - deleted;
            Interlocked.Add(ref _pruned, deleted);
            _metrics.HistoryRows(_rows);
            Interlocked.Add(ref _written, batch.Count - flushes.Count);
            _metrics.HistoryWritten(batch.Count, inserted, Stopwatch.GetElapsedTime(started));
            if (Health.Error is not null)
            {
                _logger.LogInformation("Writing the history to {Path} works again ({Dropped} records were dropped meanwhile)", connection.DataSource, Health.Dropped);
                SetHealth(Health with { Error = null, Since = null });
            }
        }
        catch (SqliteException e)
        {
            // A full disk or a damaged file: this batch is lost, the app goes on, and the next batch tries again.
            _metrics.HistoryWriteFailed(batch.Count);
            var dropped = batch.Count - flushes.Count;
            var health = Health;
            SetHealth(health with { Error = e.Message, Since = health.Since ?? _time.GetUtcNow(), Dropped = health.Dropped + dropped });
            if (health.Error is null)
            {
                _logger.LogError(e, "Writing {Count} history records to {Path} failed; they are dropped and the next batch will be tried", dropped, connection.DataSource);
            }
        }
        finally
        {
            Interlocked.Add(ref _queued, -(batch.Count - flushes.Count));
            flushes.ForEach(f => f.Done.TrySetResult());
        }
    }

    /// <summary>
    /// Deletes sockets dead for longer than MaxAge and listener events as old, gives the freed pages back to the file
    /// and empties the write-ahead log. (The row bound is kept by every write.)
    /// </summary>
    private void Prune(SqliteConnection connection, DateTimeOffset now)
    {
        try
        {
            var cutoff = (now - _options.MaxAge).ToUnixTimeMilliseconds();
            long deleted;
            using (var command = connection.CreateCommand())
            {
                command.CommandText = "DELETE FROM sockets WHERE died_at < $cutoff;";
                command.Parameters.AddWithValue("$cutoff", cutoff);
                deleted = command.ExecuteNonQuery();
                command.CommandText = "DELETE FROM listener_events WHERE at < $cutoff;";
                command.ExecuteNonQuery();
            }

            _rows -= deleted;
            Interlocked.Add(ref _pruned, deleted);
            _metrics.HistoryRows(_rows);
            HistoryStore.Execute(connection, "PRAGMA incremental_vacuum;");
            HistoryStore.Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE);");
            if (deleted > 0)
            {
                _logger.LogDebug("Pruned {Deleted} history rows dead for longer than {MaxAge}", deleted, _options.MaxAge);
            }
        }
        catch (SqliteException e)
        {
            _logger.LogError(e, "Pruning the history in {Path} failed; it will be tried again", connection.DataSource);
        }
    }

    /// <summary>The writer's connection and its prepared statements; replaced whole when the file is created anew.</summary>
    private sealed class OpenFile(SqliteConnection connection) : IDisposable
    {
        public SqliteConnection Connection { get; private set; } = connection;

        public Statements Statements { get; private set; } = new(connection);

        public void Replace(SqliteConnection connection)
        {
            Dispose();
            Connection = connection;
            Statements = new Statements(connection);
        }

        public void Dispose()
        {
            Statements.Dispose();
            Connection.Dispose();
        }
    }

    /// <summary>The prepared statements of the writer's connection, their parameters reused for every row.</summary>
    private sealed class Statements : IDisposable
    {
        private readonly SqliteCommand _insert;
        private readonly SqliteCommand _close;
        private readonly SqliteCommand _event;
        private readonly SqliteCommand _deleteOldest;

        public Statements(SqliteConnection connection)
        {
            _insert = connection.CreateCommand();
            _insert.CommandText = """
                INSERT INTO sockets (id, kind, protocol, family, local_address, local_port, remote_address, remote_port, inode, uid,
                                     state, final_state, pid, process, user, owner_source, born_at, died_at, netns)
                VALUES ($id, $kind, $protocol, $family, $local_address, $local_port, $remote_address, $remote_port, $inode, $uid,
                        $state, $final_state, $pid, $process, $user, $owner_source, $born_at, $died_at, $netns);
                """;
            foreach (var name in new[] { "$id", "$kind", "$protocol", "$family", "$local_address", "$local_port", "$remote_address", "$remote_port", "$inode", "$uid", "$state", "$final_state", "$pid", "$process", "$user", "$owner_source", "$born_at", "$died_at", "$netns" })
            {
                _insert.Parameters.Add(new SqliteParameter(name, null));
            }

            _close = connection.CreateCommand();
            _close.CommandText = """
                UPDATE sockets SET died_at = $died_at, final_state = $final_state, died_unwatched = $unwatched,
                    pid = COALESCE(pid, $pid), process = COALESCE(process, $process), user = COALESCE(user, $user)
                WHERE id = $id;
                """;
            foreach (var name in new[] { "$id", "$died_at", "$final_state", "$unwatched", "$pid", "$process", "$user" })
            {
                _close.Parameters.Add(new SqliteParameter(name, null));
            }

            _event = connection.CreateCommand();
            _event.CommandText = """
                INSERT INTO listener_events (at, change, protocol, address, port, owners, in_ephemeral_range, exposed)
                VALUES ($at, $change, $protocol, $address, $port, $owners, $ephemeral, $exposed);
                """;
            foreach (var name in new[] { "$at", "$change", "$protocol", "$address", "$port", "$owners", "$ephemeral", "$exposed" })
            {
                _event.Parameters.Add(new SqliteParameter(name, null));
            }

            // The oldest rows by number: walks only those (the primary key), however large the table.
            _deleteOldest = connection.CreateCommand();
            _deleteOldest.CommandText = "DELETE FROM sockets WHERE id IN (SELECT id FROM sockets ORDER BY id LIMIT $excess);";
            _deleteOldest.Parameters.Add(new SqliteParameter("$excess", null));
        }

        public long DeleteOldest(long count)
        {
            _deleteOldest.Parameters[0].Value = count;
            return _deleteOldest.ExecuteNonQuery();
        }

        public void Use(SqliteTransaction transaction)
        {
            _deleteOldest.Transaction = transaction;
            _insert.Transaction = transaction;
            _close.Transaction = transaction;
            _event.Transaction = transaction;
        }

        public void Insert(InsertSocketOp op)
        {
            var socket = op.Socket;
            var p = _insert.Parameters;
            p[0].Value = op.Id;
            p[1].Value = (int)op.Kind;
            p[2].Value = (int)socket.Protocol;
            p[3].Value = (int)socket.Family;
            p[4].Value = HistoryStore.AddressText(socket.Local.Address);
            p[5].Value = socket.Local.Port;
            p[6].Value = HistoryStore.AddressText(socket.Remote.Address);
            p[7].Value = socket.Remote.Port;
            p[8].Value = socket.Inode;
            p[9].Value = socket.Uid;
            p[10].Value = (int)socket.State;
            p[11].Value = op.DiedAt is null ? DBNull.Value : (int)socket.State;
            SetOwner(p, 12, op.Owner);
            p[15].Value = (int)op.OwnerSource;
            p[16].Value = op.BornAt.ToUnixTimeMilliseconds();
            p[17].Value = op.DiedAt is { } died ? died.ToUnixTimeMilliseconds() : DBNull.Value;
            p[18].Value = socket.Namespace.KeyInode; // 0 for the host's: what its SocketKey holds
            _insert.ExecuteNonQuery();
        }

        public void Close(CloseSocketOp op)
        {
            var p = _close.Parameters;
            p[0].Value = op.Id;
            p[1].Value = op.DiedAt.ToUnixTimeMilliseconds();
            p[2].Value = (int)op.FinalState;
            p[3].Value = op.Unwatched ? 1 : 0;
            SetOwner(p, 4, op.LateOwner);
            _close.ExecuteNonQuery();
        }

        public void ListenerEvent(Listeners.ListenerEvent e)
        {
            var p = _event.Parameters;
            p[0].Value = e.At.ToUnixTimeMilliseconds();
            p[1].Value = (int)e.Change;
            p[2].Value = (int)e.Listener.Protocol;
            p[3].Value = HistoryStore.AddressText(e.Listener.Address);
            p[4].Value = e.Listener.Port;
            p[5].Value = e.Owners;
            p[6].Value = e.Flags.InEphemeralRange ? 1 : 0;
            p[7].Value = e.Flags.Exposed ? 1 : 0;
            _event.ExecuteNonQuery();
        }

        private static void SetOwner(SqliteParameterCollection p, int first, ProcessInfo? owner)
        {
            p[first].Value = owner is null ? DBNull.Value : owner.Pid;
            p[first + 1].Value = owner is null ? DBNull.Value : owner.Name;
            p[first + 2].Value = owner is null ? DBNull.Value : owner.UserName;
        }

        public void Dispose()
        {
            _insert.Dispose();
            _close.Dispose();
            _event.Dispose();
            _deleteOldest.Dispose();
        }
    }
}
