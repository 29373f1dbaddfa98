using PortDashboard.Api;
using PortDashboard.Core.Filtering;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Hubs;

/// <summary>
/// One hub subscription's cadence of counter updates (<see cref="DeltaMessage.Counters"/>): deltas leave moving counters
/// out, so that their size follows the churn; at most every <see cref="Interval"/> one delta carries the latest tcp_info
/// of the matching connections that moved in the last poll, and of those that were moving at the previous update (now
/// quiet or slower). Its size is bounded by the active connections, never the table.
/// </summary>
public sealed class CounterUpdates(TimeSpan interval)
{
    /// <summary>The hub's cadence: figures at most 5 s old, for a delta cost bounded by the active connections.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(5);

    private DateTimeOffset? _lastSent;
    private HashSet<SocketKey> _moving = [];

    public TimeSpan Interval { get; } = interval;

    /// <summary>A <c>Snapshot</c> message was sent: it carried every figure, so the cadence starts over from it.</summary>
    public void Restart(Snapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        _lastSent = snapshot.TakenAt;
        _moving = [.. snapshot.Traffic.Moving];
    }

    /// <summary>The counters to send with the delta leading to <paramref name="latest"/>; null when not due.</summary>
    public IReadOnlyList<SocketCountersDto>? Next(Snapshot latest, Filter filter, WireMapper mapper)
    {
        ArgumentNullException.ThrowIfNull(latest);
        ArgumentNullException.ThrowIfNull(mapper);
        if (Interval <= TimeSpan.Zero || (_lastSent is { } last && latest.TakenAt - last < Interval))
        {
            return null;
        }

        var counters = new List<SocketCountersDto>();
        var moving = new HashSet<SocketKey>();
        foreach (var key in latest.Traffic.Moving)
        {
            moving.Add(key);
        }

        foreach (var key in _moving)
        {
            moving.Add(key); // still reported once, at its new (lower) rate
        }

        var stillMoving = new HashSet<SocketKey>();
        foreach (var key in moving)
        {
            if (latest.TryGet(key, out var socket) && mapper.Matches(filter, socket, latest.PortPolicy) && WireMapper.Tcp(socket, latest.Traffic) is { } tcp)
            {
                counters.Add(new SocketCountersDto(WireMapper.Id(key), tcp));
                if (tcp.ReceivedPerSecond + tcp.SentPerSecond > 0)
                {
                    stillMoving.Add(key);
                }
            }
        }

        _lastSent = latest.TakenAt;
        _moving = stillMoving;
        return counters;
    }
}
