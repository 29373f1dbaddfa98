using System.Collections.Frozen;

namespace PortDashboard.Core.Sockets;

/// <summary>Bytes per second into and out of a connection (or a process), between two polls.</summary>
/// <param name="ReceivedPerSecond">Bytes received per second (<c>tcpi_bytes_received</c>'s growth).</param>
/// <param name="SentPerSecond">Bytes sent and acknowledged per second (<c>tcpi_bytes_acked</c>'s growth).</param>
public readonly record struct Throughput(double ReceivedPerSecond, double SentPerSecond)
{
    public double Total => ReceivedPerSecond + SentPerSecond;

    public static Throughput operator +(Throughput a, Throughput b) =>
        new(a.ReceivedPerSecond + b.ReceivedPerSecond, a.SentPerSecond + b.SentPerSecond);
}

/// <summary>One process's traffic: the sum over the connections it holds whose rate is known.</summary>
/// <param name="Name">The process name.</param>
/// <param name="Pid">Its pid.</param>
/// <param name="Rate">The summed rate.</param>
/// <param name="Connections">Connections with a known rate that were summed.</param>
public sealed record ProcessTraffic(string Name, int Pid, Throughput Rate, int Connections);

/// <summary>
/// The throughput of each TCP connection of a snapshot, from its tcp_info byte counters and the previous snapshot's.
/// Unknown (null) for a socket without counters (UDP, /proc/net), in the first snapshot, for a socket the previous one
/// did not hold, and when a counter went backwards (a new socket on the same key): never a spike from a zero start.
/// Only the connections that moved or are new are stored: an idle table costs nothing.
/// </summary>
public sealed class TrafficRates
{
    private readonly FrozenDictionary<SocketKey, Throughput?> _rates;
    private readonly bool _allUnknown;

    private TrafficRates(FrozenDictionary<SocketKey, Throughput?> rates, bool allUnknown, TimeSpan interval)
    {
        _rates = rates;
        _allUnknown = allUnknown;
        Interval = interval;
    }

    /// <summary>No previous snapshot to compare with: every rate is unknown.</summary>
    public static TrafficRates Unknown { get; } = new(FrozenDictionary<SocketKey, Throughput?>.Empty, allUnknown: true, TimeSpan.Zero);

    /// <summary>The time between the two snapshots compared (zero for <see cref="Unknown"/>).</summary>
    public TimeSpan Interval { get; }

    /// <summary>The rate of <paramref name="socket"/> (a socket of the snapshot these rates are for); null when unknown.</summary>
    public Throughput? Of(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (_allUnknown || socket.Tcp is not { BytesAcked: not null, BytesReceived: not null })
        {
            return null;
        }

        return _rates.TryGetValue(socket.Key, out var rate) ? rate : new Throughput(0, 0);
    }

    /// <summary>
    /// The rates of <paramref name="current"/>'s sockets, taken at <paramref name="takenAt"/>, against
    /// <paramref name="previous"/>. A socket that is <paramref name="previous"/>'s very instance did not move.
    /// </summary>
    public static TrafficRates Between(Snapshot previous, IReadOnlyList<Socket> current, DateTimeOffset takenAt)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(current);
        var interval = takenAt - previous.TakenAt;
        if (previous.Count == 0 || interval <= TimeSpan.Zero)
        {
            return Unknown;
        }

        var seconds = interval.TotalSeconds;
        Dictionary<SocketKey, Throughput?>? rates = null;
        for (var i = 0; i < current.Count; i++)
        {
            var socket = current[i];
            if (socket.Tcp is not { BytesAcked: { } acked, BytesReceived: { } received })
            {
                continue;
            }

            Throughput? rate;
            if (!previous.TryGet(socket, out var before))
            {
                rate = null; // new since the previous poll
            }
            else if (ReferenceEquals(before, socket))
            {
                continue; // unchanged: 0 B/s
            }
            else if (before.Tcp is not { BytesAcked: { } ackedBefore, BytesReceived: { } receivedBefore }
                || acked < ackedBefore || received < receivedBefore)
            {
                rate = null; // no counters before, or they went backwards: not the same connection's
            }
            else if (acked == ackedBefore && received == receivedBefore)
            {
                continue;
            }
            else
            {
                rate = new Throughput((received - receivedBefore) / seconds, (acked - ackedBefore) / seconds);
            }

            (rates ??= []).TryAdd(socket.Key, rate);
        }

        return new TrafficRates(rates?.ToFrozenDictionary() ?? FrozenDictionary<SocketKey, Throughput?>.Empty, allUnknown: false, interval);
    }

    /// <summary>The connections whose counters moved since the previous snapshot (a known, non-zero rate).</summary>
    public IEnumerable<SocketKey> Moving
    {
        get
        {
            foreach (var (key, rate) in _rates)
            {
                if (rate is { Total: > 0 })
                {
                    yield return key;
                }
            }
        }
    }

    /// <summary>
    /// The <paramref name="count"/> connections of <paramref name="snapshot"/> moving the most bytes per second, busiest
    /// first (only those with a known, non-zero rate).
    /// </summary>
    public IReadOnlyList<(Socket Socket, Throughput Rate)> TopConnections(Snapshot snapshot, int count)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var top = new List<(Socket Socket, Throughput Rate)>();
        foreach (var (key, rate) in _rates)
        {
            if (rate is { Total: > 0 } known && snapshot.TryGet(key, out var socket))
            {
                top.Add((socket, known));
            }
        }

        top.Sort(static (a, b) => b.Rate.Total.CompareTo(a.Rate.Total));
        return top.Count > count ? top[..count] : top;
    }

    /// <summary>
    /// Each process's summed rate over the connections of <paramref name="snapshot"/> it holds (a connection shared
    /// by several processes counts for its first owner), busiest first, at most <paramref name="count"/>; null when no
    /// rate of the snapshot is known (first poll, or no counters at all).
    /// </summary>
    public IReadOnlyList<ProcessTraffic>? ByProcess(Snapshot snapshot, int count)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (_allUnknown)
        {
            return null;
        }

        var byPid = new Dictionary<int, ProcessTraffic>();
        var anyKnown = false;
        foreach (var socket in snapshot.Sockets)
        {
            if (Of(socket) is not { } rate)
            {
                continue;
            }

            anyKnown = true;
            if (socket.Owners.IsEmpty)
            {
                continue;
            }

            var owner = socket.Owners[0];
            byPid[owner.Pid] = byPid.TryGetValue(owner.Pid, out var sum)
                ? sum with { Rate = sum.Rate + rate, Connections = sum.Connections + 1 }
                : new ProcessTraffic(owner.Name, owner.Pid, rate, 1);
        }

        if (!anyKnown)
        {
            return null;
        }

        var list = byPid.Values.ToList();
        list.Sort(static (a, b) => b.Rate.Total != a.Rate.Total ? b.Rate.Total.CompareTo(a.Rate.Total) : a.Pid.CompareTo(b.Pid));
        return list.Count > count ? list[..count] : list;
    }
}
