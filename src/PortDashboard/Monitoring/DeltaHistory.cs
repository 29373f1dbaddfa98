using PortDashboard.Core.Sockets;

namespace PortDashboard.Monitoring;

/// <summary>
/// The latest deltas, oldest dropped first once <see cref="Capacity"/> deltas or <see cref="MaxChanges"/> changes in
/// all are kept (a ring buffer); the newest delta is always kept. A delta holds the sockets it adds and removes, so
/// counting deltas alone bounds nothing: at 100,000 sockets and 1% churn a second, 600 deltas held over a million
/// sockets (about 200 MB) that the table itself had long let go. Written by the snapshot service, read by anyone
/// (churn over the last minutes, a client catching up after a short gap).
/// </summary>
public sealed class DeltaHistory
{
    private readonly Lock _lock = new();
    private readonly Delta[] _ring;
    private int _start;
    private int _count;
    private long _changes;

    public DeltaHistory(int capacity, int maxChanges = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxChanges, 1);
        _ring = new Delta[capacity];
        MaxChanges = maxChanges;
    }

    public int Capacity => _ring.Length;

    /// <summary>The most changes (sockets added, removed or changed) the kept deltas may hold together, beyond the newest delta.</summary>
    public int MaxChanges { get; }

    /// <summary>The changes the kept deltas hold together.</summary>
    public long Changes
    {
        get
        {
            lock (_lock)
            {
                return _changes;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    public void Add(Delta delta)
    {
        ArgumentNullException.ThrowIfNull(delta);
        lock (_lock)
        {
            if (_count == _ring.Length)
            {
                DropOldest();
            }

            _ring[(_start + _count) % _ring.Length] = delta;
            _count++;
            _changes += delta.Count;
            while (_count > 1 && _changes > MaxChanges)
            {
                DropOldest();
            }
        }
    }

    private void DropOldest()
    {
        _changes -= _ring[_start].Count;
        _ring[_start] = null!; // let its sockets go
        _start = (_start + 1) % _ring.Length;
        _count--;
    }

    /// <summary>The deltas kept, oldest first.</summary>
    public IReadOnlyList<Delta> ToList()
    {
        lock (_lock)
        {
            var list = new Delta[_count];
            for (var i = 0; i < _count; i++)
            {
                list[i] = _ring[(_start + i) % _ring.Length];
            }

            return list;
        }
    }

    /// <summary>
    /// The deltas after <paramref name="sequence"/>, oldest first, or null when some of them are no longer kept
    /// (the caller must then start over from a snapshot).
    /// </summary>
    public IReadOnlyList<Delta>? Since(long sequence)
    {
        lock (_lock)
        {
            if (_count == 0)
            {
                return sequence == 0 ? [] : null;
            }

            var oldest = _ring[_start].Sequence;
            var newest = _ring[(_start + _count - 1) % _ring.Length].Sequence;
            if (sequence >= newest)
            {
                return sequence == newest ? [] : null;
            }

            if (sequence < oldest - 1)
            {
                return null;
            }

            var skip = (int)(sequence - oldest + 1);
            var list = new Delta[_count - skip];
            for (var i = 0; i < list.Length; i++)
            {
                list[i] = _ring[(_start + skip + i) % _ring.Length];
            }

            return list;
        }
    }
}
