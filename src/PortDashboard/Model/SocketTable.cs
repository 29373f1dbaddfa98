using PortDashboard.Core.Filtering;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;
using PortDashboard.Monitoring;

namespace PortDashboard.Model;

/// <summary>
/// The Connections page's in-memory table: one <see cref="SocketRow"/> per <see cref="SocketKey"/>, kept up to date
/// from the feed's batches in time proportional to the churn. New and changed rows are highlighted and closed rows
/// stay, struck through, for <see cref="HighlightDuration"/> before <see cref="Expire"/> drops them. The grid reads
/// it through <see cref="View"/> (filtered and sorted once per change, then sliced per request).
/// </summary>
public sealed class SocketTable
{
    public static readonly TimeSpan DefaultHighlightDuration = TimeSpan.FromSeconds(3);

    private readonly Dictionary<SocketKey, SocketRow> _rows = [];
    private readonly Queue<(SocketRow Row, DateTimeOffset Until)> _highlights = new();
    private readonly SocketSummaryCounter _counter = new();
    private bool _started;
    private SocketSummary? _summary;
    private int _summaryVersion = -1;

    private List<SocketRow> _view = [];
    private int _viewVersion = -1;
    private Filter? _viewFilter;
    private SocketSort _viewSort;
    private ServiceNameRegistry? _viewServices;
    private (Func<NetAddress, string?>? Names, int Version) _viewNames;

    public SocketTable(TimeSpan? highlightDuration = null, ChurnHistory? churn = null)
    {
        HighlightDuration = highlightDuration ?? DefaultHighlightDuration;
        Churn = churn ?? new ChurnHistory(TimeSpan.FromMinutes(5));
    }

    public TimeSpan HighlightDuration { get; }

    /// <summary>
    /// The service's first-seen times (<see cref="ISnapshotFeed.Ages"/>): with them a row's age counts from when the
    /// service first saw its socket, whenever the page opened. Without, from the first snapshot the table got.
    /// </summary>
    public SocketAges? Ages { get; set; }

    public ChurnHistory Churn { get; }

    /// <summary>The snapshot the table shows (after the last batch applied).</summary>
    public Snapshot Latest
    {
        get => _latest.Snapshot;
        private set => _latest.Snapshot = value;
    }

    private readonly LatestSnapshot _latest = new();
    private Snapshot? _viewSnapshot;

    /// <summary>The sequence number of the last delta applied.</summary>
    public long Sequence { get; private set; }

    /// <summary>Whether a snapshot has been applied yet (the feed's empty placeholder does not count).</summary>
    public bool HasData => _started;

    /// <summary>Bumped on every change to the rows or their highlights.</summary>
    public int Version { get; private set; }

    /// <summary>Rows, including closed rows still shown.</summary>
    public int RowCount => _rows.Count;

    public SocketSummary Summary
    {
        get
        {
            if (_summary is null || _summaryVersion != Version)
            {
                _summary = _counter.ToSummary();
                _summaryVersion = Version;
            }

            return _summary;
        }
    }

    public bool TryGetRow(SocketKey key, out SocketRow row) => _rows.TryGetValue(key, out row!);

    /// <summary>Applies one feed batch: a resync rebuilds from its snapshot, any other batch applies its deltas in order.</summary>
    public void Apply(FeedBatch batch, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.IsResync || !_started)
        {
            // Deltas before the table holds anything (the feed started from its empty snapshot) fill it like a
            // first snapshot: what was open before anyone looked is not "new".
            Resync(batch.Latest, batch.Sequence, now);
            return;
        }

        foreach (var delta in batch.Deltas)
        {
            ApplyDelta(delta, now);
        }

        UseSnapshot(batch.Latest);
        Sequence = Math.Max(Sequence, batch.Sequence);
    }

    /// <summary>
    /// Brings the table to <paramref name="snapshot"/>. The first snapshot fills the table without highlights;
    /// later ones (after a pause, or when the feed resyncs) are diffed: rows keep their first-seen time, and what
    /// appeared, changed or closed meanwhile is highlighted.
    /// </summary>
    public void Resync(Snapshot snapshot, long sequence, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (ReferenceEquals(snapshot, Snapshot.Empty) && !_started)
        {
            return; // the feed has no snapshot yet: keep waiting for one
        }

        var first = !_started;
        _started = true;
        foreach (var socket in snapshot.Sockets)
        {
            if (_rows.TryGetValue(socket.Key, out var row) && !row.IsRemoved)
            {
                var differs = row.Socket.DiffersFrom(socket);
                row.Update(socket);
                if (differs)
                {
                    Highlight(row, RowStatus.Changed, now);
                }
            }
            else
            {
                var (firstSeen, seenAtStart) = AgeOf(socket, snapshot.TakenAt, seenAtStart: first);
                var added = new SocketRow(socket, firstSeen, seenAtStart, _latest);
                _rows[socket.Key] = added;
                if (!first)
                {
                    Highlight(added, RowStatus.New, now);
                }
            }
        }

        if (!first)
        {
            foreach (var row in _rows.Values)
            {
                if (!row.IsRemoved && !snapshot.Contains(row.Key))
                {
                    Highlight(row, RowStatus.Removed, now);
                }
            }
        }

        Latest = snapshot;
        Sequence = sequence;
        Recount(snapshot.PortPolicy);
        Version++;
    }

    /// <summary>Applies one delta. A delta the table already holds (its sequence is not newer) is skipped.</summary>
    public void ApplyDelta(Delta delta, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(delta);
        if (delta.Sequence != 0 && delta.Sequence <= Sequence)
        {
            return;
        }

        _started = true;
        foreach (var socket in delta.Added)
        {
            Upsert(socket, delta.TakenAt, now);
        }

        foreach (var socket in delta.Removed)
        {
            if (_rows.TryGetValue(socket.Key, out var row) && !row.IsRemoved)
            {
                _counter.Remove(row.Socket);
                Highlight(row, RowStatus.Removed, now);
            }
        }

        foreach (var change in delta.Changed)
        {
            Upsert(change.After, delta.TakenAt, now);
        }

        if (delta.Sequence != 0)
        {
            Sequence = delta.Sequence;
        }

        Churn.Record(delta.TakenAt, delta.Added.Length, delta.Removed.Length, _counter.EphemeralPortsInUse);
        Version++;
    }

    /// <summary>Ends the highlights due by <paramref name="now"/> and drops closed rows; whether anything changed.</summary>
    public bool Expire(DateTimeOffset now)
    {
        var changed = false;
        while (_highlights.TryPeek(out var entry) && entry.Until <= now)
        {
            _highlights.Dequeue();
            var row = entry.Row;
            if (row.Status == RowStatus.Steady || row.StatusUntil != entry.Until)
            {
                continue; // superseded by a later highlight
            }

            if (row.IsRemoved)
            {
                if (_rows.TryGetValue(row.Key, out var current) && ReferenceEquals(current, row))
                {
                    _rows.Remove(row.Key);
                }
            }
            else
            {
                row.ClearHighlight();
            }

            changed = true;
        }

        if (changed)
        {
            Version++;
        }

        return changed;
    }

    /// <summary>The rows matching <paramref name="filter"/> in <paramref name="sort"/> order; cached until the table, filter or sort changes.</summary>
    /// <param name="remoteNames">The names of remote addresses the free text also finds (null: numbers only).</param>
    /// <param name="namesVersion">Changes whenever <paramref name="remoteNames"/> may answer differently (a lookup ended).</param>
    public IReadOnlyList<SocketRow> View(Filter filter, SocketSort sort, ServiceNameRegistry services, Func<NetAddress, string?>? remoteNames = null, int namesVersion = 0)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var namesMatter = remoteNames is not null && filter.Text is not null;
        var viewNames = namesMatter ? (remoteNames, namesVersion) : default;
        // Sorted by a live figure (throughput, rtt...), the order changes with every snapshot, not only with the rows.
        var snapshotMatters = sort.IsByLiveFigure;
        if (_viewVersion == Version && ReferenceEquals(filter, _viewFilter) && sort == _viewSort && ReferenceEquals(services, _viewServices)
            && viewNames == _viewNames && (!snapshotMatters || ReferenceEquals(_viewSnapshot, Latest)))
        {
            return _view;
        }

        var view = new List<SocketRow>(filter.IsEmpty ? _rows.Count : Math.Min(_rows.Count, 1024));
        foreach (var row in _rows.Values)
        {
            if (filter.IsEmpty || filter.Matches(row.Socket, services, Latest.PortPolicy, namesMatter ? remoteNames : null))
            {
                view.Add(row);
            }
        }

        view.Sort(sort.Comparison);
        (_view, _viewVersion, _viewFilter, _viewSort, _viewServices, _viewNames, _viewSnapshot) = (view, Version, filter, sort, services, viewNames, Latest);
        return view;
    }

    /// <summary>A window of <see cref="View"/>, as the virtualized grid asks for it.</summary>
    public static IReadOnlyList<SocketRow> Slice(IReadOnlyList<SocketRow> view, int start, int count)
    {
        ArgumentNullException.ThrowIfNull(view);
        start = Math.Clamp(start, 0, view.Count);
        count = Math.Clamp(count, 0, view.Count - start);
        var slice = new SocketRow[count];
        for (var i = 0; i < count; i++)
        {
            slice[i] = view[start + i];
        }

        return slice;
    }

    private void Upsert(Socket socket, DateTimeOffset seenAt, DateTimeOffset now)
    {
        if (_rows.TryGetValue(socket.Key, out var row) && !row.IsRemoved)
        {
            var differs = row.Socket.DiffersFrom(socket);
            _counter.Remove(row.Socket);
            row.Update(socket);
            _counter.Add(socket);
            // A row still highlighted as new stays green: that it is new says more than that it changed.
            if (differs && row.Status != RowStatus.New)
            {
                Highlight(row, RowStatus.Changed, now);
            }

            return;
        }

        var (firstSeen, seenAtStart) = AgeOf(socket, seenAt, seenAtStart: false);
        var added = new SocketRow(socket, firstSeen, seenAtStart, _latest);
        _rows[socket.Key] = added;
        _counter.Add(socket);
        Highlight(added, RowStatus.New, now);
    }

    /// <summary>The service's first sight of <paramref name="socket"/> when it knows it; the table's own otherwise.</summary>
    private (DateTimeOffset FirstSeen, bool SeenAtStart) AgeOf(Socket socket, DateTimeOffset seenAt, bool seenAtStart) =>
        Ages is not null && Ages.TryGet(socket.Key, out var age) && age.FirstSeen <= seenAt
            ? (age.FirstSeen, age.SeenAtStart)
            : (seenAt, seenAtStart);

    private void Highlight(SocketRow row, RowStatus status, DateTimeOffset now)
    {
        var until = now + HighlightDuration;
        row.Highlight(status, until);
        _highlights.Enqueue((row, until));
    }

    private void UseSnapshot(Snapshot snapshot)
    {
        if (!Equals(snapshot.PortPolicy, _counter.Policy))
        {
            Recount(snapshot.PortPolicy);
            Version++;
        }

        Latest = snapshot;
    }

    private void Recount(OsPortPolicy policy)
    {
        _counter.Reset(policy);
        foreach (var row in _rows.Values)
        {
            if (!row.IsRemoved)
            {
                _counter.Add(row.Socket);
            }
        }
    }
}
