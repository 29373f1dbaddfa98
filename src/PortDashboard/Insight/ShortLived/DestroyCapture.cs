using System.Collections.Concurrent;
using PortDashboard.Core.Reading.Netlink;

namespace PortDashboard.Insight.ShortLived;

/// <summary>Whether sockets closing between polls are captured, and if not, why and how to enable it.</summary>
/// <param name="IsCapturing">Whether the kernel's socket-destroy notifications are being read.</param>
/// <param name="Reason">Why not (null while capturing or starting).</param>
public sealed record DestroyCaptureStatus(bool IsCapturing, string? Reason)
{
    public static DestroyCaptureStatus Starting { get; } = new(false, null);

    /// <summary>What a person can do to enable the capture.</summary>
    public const string HowToEnable =
        "Run PortDashboard as root, or give it CAP_NET_ADMIN: `setcap cap_net_admin+ep` on the executable, "
        + "`AmbientCapabilities=CAP_NET_ADMIN` in a systemd unit, or `--cap-add NET_ADMIN` for a container.";

    public bool IsNotCaptured => !IsCapturing && Reason is not null;
}

/// <summary>
/// Runs the <see cref="SocketDestroyWatcher"/> (the sock_diag destroy multicast groups, as <c>ss -E</c>) and queues
/// every destroyed socket for the insight loop, which decides at its next poll whether a snapshot had shown it.
/// Without CAP_NET_ADMIN it says so once and stops; the rest of the app works without it.
/// </summary>
public sealed class DestroyCapture : BackgroundService
{
    /// <summary>The most destroyed sockets waiting for the next poll; older ones are dropped beyond it (counted).</summary>
    public const int MaxPending = 500_000;

    private readonly ConcurrentQueue<DestroyedSocket> _pending = new();
    private readonly TimeProvider _time;
    private readonly InsightMetrics _metrics;
    private readonly ILogger<DestroyCapture> _logger;
    private readonly Func<(SocketDestroyWatcher? Watcher, string? WhyNot)> _start;
    private volatile DestroyCaptureStatus _status = DestroyCaptureStatus.Starting;
    private SocketDestroyWatcher? _watcher;
    private long _seen;
    private long _droppedPending;
    private int _pendingCount;

    public DestroyCapture(TimeProvider time, InsightMetrics metrics, ILogger<DestroyCapture> logger)
        : this(time, metrics, logger, null)
    {
    }

    /// <summary>With <paramref name="start"/>, a test decides whether capture is permitted.</summary>
    internal DestroyCapture(TimeProvider time, InsightMetrics metrics, ILogger<DestroyCapture> logger, Func<(SocketDestroyWatcher?, string?)>? start)
    {
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _start = start ?? (() => (SocketDestroyWatcher.TryStart(out var whyNot, _time), whyNot));
    }

    public DestroyCaptureStatus Status => _status;

    /// <summary>Sockets reported destroyed since start.</summary>
    public long Seen => Interlocked.Read(ref _seen);

    /// <summary>Notifications lost: the kernel's queue overflowed, the watcher's channel was full, or too many waited for a poll.</summary>
    public long Lost => (_watcher?.Overruns ?? 0) + (_watcher?.Dropped ?? 0) + Interlocked.Read(ref _droppedPending);

    /// <summary>Takes the destroyed sockets reported before <paramref name="before"/>, oldest first.</summary>
    internal void TakeBefore(DateTimeOffset before, List<DestroyedSocket> into)
    {
        while (_pending.TryPeek(out var next) && next.SeenAt < before && _pending.TryDequeue(out next))
        {
            Interlocked.Decrement(ref _pendingCount);
            into.Add(next);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var (watcher, whyNot) = _start();
        if (watcher is null)
        {
            _status = new DestroyCaptureStatus(false, whyNot ?? "socket-destroy notifications are unavailable");
            _logger.LogWarning(
                "Short-lived connections are not captured ({Reason}). {HowToEnable}", _status.Reason, DestroyCaptureStatus.HowToEnable);
            return;
        }

        _watcher = watcher;
        _status = new DestroyCaptureStatus(true, null);
        _logger.LogInformation("Capturing sockets that close between polls (sock_diag destroy notifications)");
        await using (watcher)
        {
            try
            {
                await foreach (var destroyed in watcher.Destroyed.ReadAllAsync(stoppingToken))
                {
                    Enqueue(destroyed);
                    _metrics.SocketDestroyed(destroyed.Socket.Protocol);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // stopping
            }
        }

        _status = new DestroyCaptureStatus(false, "stopped");
    }

    private void Enqueue(DestroyedSocket destroyed)
    {
        _pending.Enqueue(destroyed);
        Interlocked.Increment(ref _seen);
        if (Interlocked.Increment(ref _pendingCount) > MaxPending && _pending.TryDequeue(out _))
        {
            Interlocked.Decrement(ref _pendingCount);
            Interlocked.Increment(ref _droppedPending); // no poll is taking them (reads failing): keep the newest
        }
    }
}
