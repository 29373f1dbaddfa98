using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Core.Pressure;

/// <summary>
/// Counts new outgoing sockets per destination from deltas (and from the socket-destroy watcher, for connections
/// too short to be seen in a snapshot) over a sliding window, giving each destination's opening rate.
/// Not thread-safe: the snapshot service feeds it from its one loop.
/// </summary>
public sealed class OpeningRateTracker
{
    private readonly TimeSpan _window;
    private readonly Queue<(DateTimeOffset At, Destination Destination, int Count)> _events = new();
    private readonly Dictionary<Destination, int> _counts = [];

    public OpeningRateTracker(TimeSpan? window = null) => _window = window ?? TimeSpan.FromSeconds(60);

    /// <summary>Records the outgoing sockets (local port from the OS ephemeral range) a delta added.</summary>
    public void Record(Delta delta, OsPortPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(delta);
        ArgumentNullException.ThrowIfNull(policy);
        var batch = new Dictionary<Destination, int>();
        foreach (var socket in delta.Added)
        {
            if (DestinationOf(socket, policy) is { } destination)
            {
                batch[destination] = batch.GetValueOrDefault(destination) + 1;
            }
        }

        foreach (var (destination, count) in batch)
        {
            Add(delta.TakenAt, destination, count);
        }

        Expire(delta.TakenAt);
    }

    /// <summary>Records one socket seen only when it closed (it never showed in a snapshot).</summary>
    public void RecordShortLived(Socket socket, OsPortPolicy policy, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(policy);
        if (DestinationOf(socket, policy) is { } destination)
        {
            Add(at, destination, 1);
        }
    }

    /// <summary>Opening rates per second over the window ending at <paramref name="now"/>.</summary>
    public IReadOnlyDictionary<Destination, double> RatesAt(DateTimeOffset now)
    {
        Expire(now);
        var seconds = _window.TotalSeconds;
        return _counts.ToDictionary(pair => pair.Key, pair => pair.Value / seconds);
    }

    /// <summary>The destination an outgoing socket draws its source port for; null for listeners, unconnected and server-side sockets.</summary>
    public static Destination? DestinationOf(Socket socket, OsPortPolicy policy) =>
        socket.Remote.IsUnspecified || socket.State == SocketState.Listen || !policy.IsOsEphemeral(socket.Local.Port)
            ? null
            : new Destination(socket.Protocol, socket.Local.Address.Unmapped, socket.Remote with { Address = socket.Remote.Address.Unmapped });

    private void Add(DateTimeOffset at, Destination destination, int count)
    {
        _events.Enqueue((at, destination, count));
        _counts[destination] = _counts.GetValueOrDefault(destination) + count;
    }

    private void Expire(DateTimeOffset now)
    {
        while (_events.TryPeek(out var oldest) && now - oldest.At > _window)
        {
            _events.Dequeue();
            var left = _counts[oldest.Destination] - oldest.Count;
            if (left == 0)
            {
                _counts.Remove(oldest.Destination);
            }
            else
            {
                _counts[oldest.Destination] = left;
            }
        }
    }
}
