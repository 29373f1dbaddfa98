using System.Collections.Concurrent;
using System.Net;
using PortDashboard.Naming;

namespace PortDashboard.Tests.Support;

/// <summary>
/// A reverse resolver that answers from a table the test fills, counts its calls and how many ran at once, and can
/// hold every lookup until <see cref="Release"/> (or forever, ignoring its token, like a resolver that hangs).
/// </summary>
public sealed class FakeReverseDns : IReverseDns
{
    private readonly ConcurrentDictionary<IPAddress, string> _names = new();
    private readonly ConcurrentQueue<IPAddress> _asked = new();
    private TaskCompletionSource _gate = Completed();
    private int _running;
    private int _maxRunning;

    /// <summary>Every address asked, in order.</summary>
    public IReadOnlyCollection<IPAddress> Asked => _asked;

    public int MaxRunning => Volatile.Read(ref _maxRunning);

    public int Running => Volatile.Read(ref _running);

    public void Add(string address, string name) => _names[IPAddress.Parse(address)] = name;

    /// <summary>From now on, lookups wait (ignoring their token) until <see cref="Release"/>.</summary>
    public void Hold() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => _gate.TrySetResult();

    public async Task<string?> ResolveAsync(IPAddress address, CancellationToken cancellationToken)
    {
        _asked.Enqueue(address);
        var running = Interlocked.Increment(ref _running);
        InterlockedMax(ref _maxRunning, running);
        try
        {
            await _gate.Task.ConfigureAwait(false);
            return _names.TryGetValue(address, out var name) ? name : null;
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }

    private static TaskCompletionSource Completed()
    {
        var source = new TaskCompletionSource();
        source.SetResult();
        return source;
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
