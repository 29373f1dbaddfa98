using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace PortDashboard.Fleet;

/// <summary>
/// The one Redis connection of this process. StackExchange.Redis reconnects by itself; this holder makes the first
/// connection (retrying while Redis is unreachable), and turns the client's events into a status the banner and
/// <c>/healthz</c> read and one log line per change (not one per retry).
/// </summary>
public sealed class FleetConnection : IAsyncDisposable
{
    private readonly FleetOptions _options;
    private readonly ILogger<FleetConnection> _logger;
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private ConnectionMultiplexer? _multiplexer;
    private volatile string? _lastError;
    private string? _loggedError;
    private int _state; // 0 not yet known, 1 usable, 2 not usable

    public FleetConnection(IOptions<FleetOptions> options, ILogger<FleetConnection> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _logger = logger;
        Keys = new FleetKeys(_options.KeyPrefix);
    }

    public FleetKeys Keys { get; }

    public FleetOptions Options => _options;

    /// <summary>Connected, and the last command did not fail for want of Redis.</summary>
    public bool IsConnected => _multiplexer?.IsConnected == true && _lastError is null;

    /// <summary>Why Redis is not usable, for the banner and /healthz; null while it is.</summary>
    public string? LastError => _multiplexer is null && _lastError is null ? "not connected yet" : _lastError;

    /// <summary>Raised (on the client's thread) when the connection comes back: publishers resend a snapshot.</summary>
    public event Action? Restored;

    /// <summary>The connected multiplexer; null while the first connection has not succeeded (it is retried on the next call).</summary>
    public async Task<IDatabase?> DatabaseAsync(CancellationToken cancellationToken)
    {
        var multiplexer = await MultiplexerAsync(cancellationToken);
        return multiplexer?.IsConnected == true ? multiplexer.GetDatabase() : null;
    }

    public async Task<ConnectionMultiplexer?> MultiplexerAsync(CancellationToken cancellationToken)
    {
        if (_multiplexer is { } existing)
        {
            return existing;
        }

        await _connecting.WaitAsync(cancellationToken);
        try
        {
            if (_multiplexer is not null)
            {
                return _multiplexer;
            }

            var configuration = _options.ToConfiguration();
            // The first connection fails fast with its reason (refused credentials or no server), which the client's
            // events would report before a handler could be attached; the next call tries again. Once connected,
            // the multiplexer reconnects by itself.
            configuration.AbortOnConnectFail = true;
            var multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration);
            multiplexer.ConnectionFailed += (_, e) => Failed(Describe(e.FailureType, e.Exception));
            multiplexer.ConnectionRestored += (_, _) => Succeeded();
            _multiplexer = multiplexer;
            if (multiplexer.IsConnected)
            {
                Succeeded();
            }
            else
            {
                Failed($"cannot connect to Redis at {_options.Redis}: {multiplexer.GetStatus().Trim().Split('\n')[^1].Trim()}");
            }

            return multiplexer;
        }
        catch (RedisConnectionException e) when (e.FailureType == ConnectionFailureType.AuthenticationFailure)
        {
            Failed(Describe(e.FailureType, e));
            return null;
        }
        catch (Exception e) when (e is RedisException or TimeoutException or System.Net.Sockets.SocketException)
        {
            Failed($"cannot connect to Redis at {_options.Redis}: {e.Message}");
            return null;
        }
        finally
        {
            _connecting.Release();
        }
    }

    /// <summary>Records that a command failed for want of Redis (the client's events lag a dead server); logs each new reason once.</summary>
    public void Failed(string error)
    {
        _lastError = error;
        if (Interlocked.Exchange(ref _state, 2) != 2 || _loggedError != error)
        {
            _loggedError = error;
            _logger.LogError("Fleet: Redis at {Redis} is not usable: {Error}; retrying by itself", _options.Redis, error);
        }
    }

    /// <summary>Records that a command went through: the first time after a failure, logs it and raises <see cref="Restored"/>.</summary>
    public void Succeeded()
    {
        _lastError = null;
        var previous = Interlocked.Exchange(ref _state, 1);
        if (previous == 1)
        {
            return;
        }

        _loggedError = null;
        _logger.LogInformation("Fleet: Redis at {Redis} is usable ({How})", _options.Redis, previous == 2 ? "again" : "connected");
        Restored?.Invoke();
    }

    private string Describe(ConnectionFailureType type, Exception? exception) => type switch
    {
        ConnectionFailureType.AuthenticationFailure =>
            $"Redis refused the credentials (check {FleetOptions.SectionName}:User and :Password): {exception?.Message}",
        _ => $"Redis at {_options.Redis} failed ({type}): {exception?.Message}",
    };

    public async ValueTask DisposeAsync()
    {
        if (_multiplexer is { } multiplexer)
        {
            await multiplexer.DisposeAsync();
        }

        _connecting.Dispose();
    }
}
