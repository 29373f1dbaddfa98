using System.Collections.Immutable;
using PortDashboard.Api;
using PortDashboard.Core.Filtering;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Hubs;

/// <summary>
/// Folds a batch of consecutive deltas into one net change of a filtered view. A changed socket that stops matching
/// the filter leaves the view (removed); one that starts matching enters it (added). A socket added and removed
/// within the batch is not sent at all; one removed and added again is sent as changed.
/// </summary>
public sealed class FilteredDelta
{
    private readonly Filter _filter;
    private readonly WireMapper _mapper;
    private readonly Dictionary<SocketKey, (Change Change, Socket Socket)> _net = [];

    private readonly OsPortPolicy _policy;

    /// <param name="policy">Judges the filter's OS classes (the latest snapshot's; Linux's defaults when null).</param>
    public FilteredDelta(Filter filter, WireMapper mapper, OsPortPolicy? policy = null)
    {
        _filter = filter;
        _mapper = mapper;
        _policy = policy ?? OsPortPolicy.LinuxDefault;
    }

    private enum Change : byte
    {
        Added,
        Removed,
        Changed,
    }

    public void Apply(Delta delta)
    {
        ArgumentNullException.ThrowIfNull(delta);
        foreach (var socket in delta.Added)
        {
            if (_mapper.Matches(_filter, socket, _policy))
            {
                Enter(socket);
            }
        }

        foreach (var socket in delta.Removed)
        {
            if (_mapper.Matches(_filter, socket, _policy))
            {
                Leave(socket);
            }
        }

        foreach (var (before, after) in delta.Changed)
        {
            switch (_mapper.Matches(_filter, before, _policy), _mapper.Matches(_filter, after, _policy))
            {
                case (true, true):
                    Update(after);
                    break;
                case (false, true):
                    Enter(after);
                    break;
                case (true, false):
                    Leave(before);
                    break;
            }
        }
    }

    /// <summary>The net change of a batch of deltas (in sequence order), as one message.</summary>
    public static DeltaMessage ToMessage(ImmutableArray<Delta> deltas, Snapshot latest, Filter filter, WireMapper mapper)
    {
        ArgumentNullException.ThrowIfNull(latest);
        if (deltas.IsDefaultOrEmpty)
        {
            throw new ArgumentException("A delta message needs at least one delta.", nameof(deltas));
        }

        var net = new FilteredDelta(filter, mapper, latest.PortPolicy);
        foreach (var delta in deltas)
        {
            net.Apply(delta);
        }

        return net.ToMessage(deltas[0].Sequence, deltas[^1].Sequence, latest);
    }

    public DeltaMessage ToMessage(long fromSequence, long toSequence, Snapshot latest)
    {
        ArgumentNullException.ThrowIfNull(latest);
        var added = new List<SocketDto>();
        var removed = new List<string>();
        var changed = new List<SocketDto>();
        foreach (var (key, (change, socket)) in _net)
        {
            switch (change)
            {
                case Change.Added:
                    added.Add(_mapper.Socket(socket, latest.PortPolicy, latest.Traffic));
                    break;
                case Change.Removed:
                    removed.Add(WireMapper.Id(key));
                    break;
                default:
                    changed.Add(_mapper.Socket(socket, latest.PortPolicy, latest.Traffic));
                    break;
            }
        }

        return new DeltaMessage(fromSequence, toSequence, latest.TakenAt, added, removed, changed);
    }

    private void Enter(Socket socket)
    {
        var key = socket.Key;
        _net[key] = _net.TryGetValue(key, out var prior) && prior.Change == Change.Removed
            ? (Change.Changed, socket) // left and came back within the batch: the client still has it
            : (Change.Added, socket);
    }

    private void Leave(Socket socket)
    {
        var key = socket.Key;
        if (_net.TryGetValue(key, out var prior) && prior.Change == Change.Added)
        {
            _net.Remove(key); // came and went within the batch: the client never saw it
        }
        else
        {
            _net[key] = (Change.Removed, socket);
        }
    }

    private void Update(Socket socket)
    {
        var key = socket.Key;
        _net[key] = _net.TryGetValue(key, out var prior) && prior.Change == Change.Added
            ? (Change.Added, socket)
            : (Change.Changed, socket);
    }
}
