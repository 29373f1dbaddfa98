using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Naming;

/// <summary>
/// The names of remote addresses for the pages, from reverse DNS in the background. <see cref="NameOf"/> never waits:
/// it answers from the cache, and an address not known yet is queued (a bounded queue: when full, it is asked for
/// again the next time it is shown) and shows as a number until its lookup ends. At most
/// <see cref="ReverseDnsOptions.MaxConcurrent"/> lookups run at once, each bounded by
/// <see cref="ReverseDnsOptions.Timeout"/>; a name is kept for <see cref="ReverseDnsOptions.Ttl"/>, no name (or a
/// failed or timed-out lookup) for <see cref="ReverseDnsOptions.NegativeTtl"/>. <see cref="Version"/> grows with every
/// answer, so a page knows when to redraw. Nothing on the poll path calls it.
/// </summary>
public sealed class AddressNames : IAsyncDisposable
{
    private readonly IReverseDns _resolver;
    private readonly TimeProvider _time;
    private readonly ReverseDnsOptions _options;
    private readonly ILogger<AddressNames> _logger;
    private readonly ConcurrentDictionary<NetAddress, Entry> _cache = new();
    private readonly Channel<NetAddress> _queue;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _workers;
    private int _version;
    private long _lookups;
    private long _timeouts;

    public AddressNames(IReverseDns resolver, TimeProvider time, IOptions<ReverseDnsOptions> options, ILogger<AddressNames> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _resolver = resolver;
        _time = time;
        _options = options.Value;
        _logger = logger;
        _queue = Channel.CreateBounded<NetAddress>(new BoundedChannelOptions(_options.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.DropWrite,
            SingleWriter = false,
            SingleReader = false,
        });
        _workers = _options.Enabled
            ? Enumerable.Range(0, _options.MaxConcurrent).Select(_ => Task.Run(() => WorkAsync(_stop.Token))).ToArray()
            : [];
    }

    /// <summary>Whether names are looked up at all (<c>PortDashboard:ReverseDns:Enabled</c>).</summary>
    public bool Enabled => _options.Enabled;

    /// <summary>Grows with every lookup that ended (a name, none, or a timeout).</summary>
    public int Version => Volatile.Read(ref _version);

    /// <summary>Lookups started so far, and those that timed out (for tests and logs).</summary>
    public (long Lookups, long Timeouts) Counts => (Interlocked.Read(ref _lookups), Interlocked.Read(ref _timeouts));

    /// <summary>
    /// The name of <paramref name="address"/> if known; otherwise null, and a lookup is queued unless one is pending or
    /// the address is a wildcard. Never blocks.
    /// </summary>
    public string? NameOf(NetAddress address)
    {
        if (!_options.Enabled || address.IsWildcard)
        {
            return null;
        }

        address = address.Unmapped;
        var now = _time.GetUtcNow();
        if (_cache.TryGetValue(address, out var entry) && (entry.Pending || entry.Expires > now))
        {
            return entry.Name;
        }

        // Unknown or expired: keep showing the old answer while the new lookup runs.
        if (_cache.TryAdd(address, Entry.PendingWith(null)) || (entry is not null && _cache.TryUpdate(address, Entry.PendingWith(entry.Name), entry)))
        {
            if (!_queue.Writer.TryWrite(address))
            {
                _cache.TryRemove(address, out _); // queue full: ask again when next shown
            }
        }

        return entry?.Name;
    }

    private async Task WorkAsync(CancellationToken stopping)
    {
        try
        {
            await foreach (var address in _queue.Reader.ReadAllAsync(stopping).ConfigureAwait(false))
            {
                await LookUpAsync(address, stopping).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    private async Task LookUpAsync(NetAddress address, CancellationToken stopping)
    {
        Interlocked.Increment(ref _lookups);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(_options.Timeout);
        Task<string?> lookup;
        try
        {
            lookup = _resolver.ResolveAsync(address.ToIPAddress(), timeout.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            lookup = Task.FromException<string?>(e);
        }

        string? name = null;
        try
        {
            name = await lookup.WaitAsync(_options.Timeout, _time, stopping).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Interlocked.Increment(ref _timeouts);
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            Interlocked.Increment(ref _timeouts); // the resolver honoured the token
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogDebug(e, "Reverse lookup of {Address} failed", address);
        }

        Store(address, name);

        // A resolver that ignores its token still holds this worker until it returns, so no more than
        // MaxConcurrent lookups ever run, even when each one hangs.
        await Task.WhenAny(lookup, Task.Delay(Timeout.Infinite, stopping)).ConfigureAwait(false);
    }

    private void Store(NetAddress address, string? name)
    {
        var now = _time.GetUtcNow();
        _cache[address] = new Entry(name, now + (name is null ? _options.NegativeTtl : _options.Ttl), Pending: false);
        if (_cache.Count > _options.CacheCapacity)
        {
            Trim(now);
        }

        Interlocked.Increment(ref _version);
    }

    /// <summary>Drops expired entries, then the ones expiring soonest, down to nine tenths of the capacity.</summary>
    private void Trim(DateTimeOffset now)
    {
        var target = _options.CacheCapacity * 9 / 10;
        foreach (var (key, entry) in _cache)
        {
            if (!entry.Pending && entry.Expires <= now)
            {
                _cache.TryRemove(key, out _);
            }
        }

        if (_cache.Count <= target)
        {
            return;
        }

        foreach (var (key, _) in _cache.Where(p => !p.Value.Pending).OrderBy(p => p.Value.Expires).Take(_cache.Count - target).ToList())
        {
            _cache.TryRemove(key, out _);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_workers).ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <summary>A cached answer: a name or none, until when; or a lookup under way (showing the previous answer).</summary>
    private sealed record Entry(string? Name, DateTimeOffset Expires, bool Pending)
    {
        public static Entry PendingWith(string? name) => new(name, DateTimeOffset.MaxValue, Pending: true);
    }
}
