using System.Collections.Immutable;
using System.Diagnostics;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Core.Reading;

/// <summary>Options for taking snapshots.</summary>
public sealed record SnapshotterOptions
{
    /// <summary>Where /proc is mounted: <c>/proc</c>, or <c>/host/proc</c> in a container.</summary>
    public string ProcRoot { get; init; } = "/proc";

    /// <summary>Whether to attribute sockets to processes.</summary>
    public bool AttributeOwners { get; init; } = true;

    /// <summary>Whether to read process command lines (they can hold secrets).</summary>
    public bool IncludeCommandLine { get; init; }

    /// <summary>The passwd file for user names.</summary>
    public string PasswdPath { get; init; } = "/etc/passwd";

    /// <summary>
    /// How often attribution reads every process; between those full scans it reads only what changed (new processes,
    /// new sockets). A full scan corrects owner changes that create no socket (a socket passed to another process, or
    /// closed by one of its owners). <see cref="TimeSpan.Zero"/> makes every snapshot a full scan.
    /// </summary>
    public TimeSpan FullAttributionInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Whether a due full scan waits for <see cref="Snapshotter.RunDueFullAttribution"/>, which the caller runs once the
    /// snapshot is published, instead of running inside <see cref="Snapshotter.Take"/>: every poll then publishes after an
    /// incremental attribution (at 100,000 sockets a full scan takes 400 ms more), and what the full scan corrects shows
    /// in the next snapshot. The first snapshot, and every one when the interval is zero, is still a full scan.
    /// </summary>
    public bool FullAttributionAfterPublish { get; init; }
}

/// <summary>
/// Takes <see cref="Snapshot"/>s: reads the socket table, attributes it to processes and stamps it with the
/// OS port policy and host name. Not thread-safe: one caller (the snapshot service) drives it.
/// <para>
/// Attribution is incremental between full scans (<see cref="SnapshotterOptions.FullAttributionInterval"/>). A socket
/// whose every field equals the previous snapshot's (same inode or, without one, same key) is that snapshot's instance:
/// the delta between the two skips it by reference, and the new copy dies young instead of living on in the snapshot.
/// </para>
/// </summary>
public sealed class Snapshotter
{
    private readonly ISocketTableReader _reader;
    private readonly ProcessResolver? _resolver;
    private readonly TimeProvider _time;
    private readonly SnapshotterOptions _options;
    private readonly HashSet<long> _wanted = [];
    private Snapshot _previous = Snapshot.Empty;
    private DateTimeOffset? _nextFullAttribution;
    private bool _fullAttributionDue;

    public Snapshotter(ISocketTableReader reader, SnapshotterOptions options, TimeProvider? time = null)
    {
        _reader = reader;
        _options = options;
        _time = time ?? TimeProvider.System;
        _resolver = options.AttributeOwners && reader.SupportsAttribution
            ? new ProcessResolver(options.ProcRoot, new UserNames(options.PasswdPath), options.IncludeCommandLine)
            : null;
    }

    /// <summary>The default reader for the configured proc root.</summary>
    public static Snapshotter CreateDefault(SnapshotterOptions options, TimeProvider? time = null) =>
        new(SocketTableReaders.CreateDefault(options.ProcRoot), options, time);

    public ISocketTableReader Reader => _reader;

    /// <summary>The malformed input of the last read, for the log.</summary>
    public MalformedInput LastMalformed { get; private set; } = new();

    /// <summary>What the last attribution read (null without attribution).</summary>
    public AttributionScan? LastAttributionScan => _resolver?.LastScan;

    /// <summary>
    /// Reads the table, attributes it and stamps it. <see cref="Snapshot.TakenAt"/> comes from the injected
    /// <see cref="TimeProvider"/>; <see cref="Snapshot.Duration"/> is the real time the work took, whatever the clock.
    /// An unreadable socket table throws (the caller logs it and retries); attribution never does.
    /// </summary>
    public Snapshot Take(CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        var takenAt = _time.GetUtcNow();
        var policy = OsPortPolicyReader.Read(_options.ProcRoot);
        var read = _reader is IReusingSocketTableReader reusing ? reusing.ReadReusing(_previous, cancellationToken) : _reader.Read(cancellationToken);
        LastMalformed = read.Malformed;

        var status = _resolver is null
            ? AttributionStatus.Unavailable(_reader.SupportsAttribution
                ? "process attribution is turned off"
                : $"the {_reader.Name} reader cannot see which process owns a socket")
            : Attribute(_resolver, read.Sockets, takenAt, cancellationToken);
        ReuseUnchanged(read.Sockets);

        var traffic = TrafficRates.Between(_previous, read.Sockets, takenAt);
        var duration = Stopwatch.GetElapsedTime(started);
        return _previous = new Snapshot(
            [.. read.Sockets],
            takenAt,
            duration,
            _reader.Name,
            status,
            policy,
            HostName(_options.ProcRoot),
            read.Malformed.Count)
        {
            Traffic = traffic,
        };
    }

    /// <summary>Attaches owners to the sockets that have a file (inode 0, e.g. TIME_WAIT, has none).</summary>
    private AttributionStatus Attribute(ProcessResolver resolver, List<Socket> sockets, DateTimeOffset now, CancellationToken cancellationToken)
    {
        _wanted.Clear();
        foreach (var socket in sockets)
        {
            if (socket.Inode != 0)
            {
                _wanted.Add(socket.Inode);
            }
        }

        var everyPoll = _options.FullAttributionInterval <= TimeSpan.Zero;
        var first = _nextFullAttribution is null;
        var due = everyPoll || first || now >= _nextFullAttribution;

        // A due full scan runs here unless the caller runs it after publishing; the first one, with nothing known, always here.
        var fullScan = due && (!_options.FullAttributionAfterPublish || first || everyPoll);
        _fullAttributionDue = due && !fullScan;
        var lookup = _reader as ISocketLookup;
        var isOpen = lookup is null ? null : IsOpenIn(sockets, lookup);
        var attribution = resolver.ResolveIncrementally(_wanted, fullScan, isOpen, ClosedSinceRead(lookup), cancellationToken);
        if (fullScan)
        {
            _nextFullAttribution = now + _options.FullAttributionInterval;
        }

        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(sockets);
        for (var i = 0; i < span.Length; i++)
        {
            var socket = span[i];
            var owners = socket.Inode != 0 && attribution.OwnersByInode.TryGetValue(socket.Inode, out var found) ? found : [];
            if (!socket.IsPublished)
            {
                socket.AttachOwners(owners);
            }
            else if (!SameOwners(socket.Owners, owners))
            {
                span[i] = socket.WithOwners(owners); // a previous snapshot's instance: shared, so copied
            }
        }

        return attribution.Status;
    }

    /// <summary>
    /// Runs the full attribution scan that <see cref="Take"/> left for after publishing (with
    /// <see cref="SnapshotterOptions.FullAttributionAfterPublish"/>), over the last table: the resolver learns what an
    /// incremental scan cannot see (a socket passed to another process, closed by one of its owners), and the next
    /// snapshot shows it. Returns whether it ran. Attribution never throws but when cancelled.
    /// </summary>
    public bool RunDueFullAttribution(CancellationToken cancellationToken = default)
    {
        if (!_fullAttributionDue || _resolver is null)
        {
            return false;
        }

        _fullAttributionDue = false;
        _resolver.ResolveIncrementally(_wanted, fullScan: true, isOpen: null, ClosedSinceRead(_reader as ISocketLookup), cancellationToken);
        _nextFullAttribution = _time.GetUtcNow() + _options.FullAttributionInterval;
        return true;
    }

    private static Action<ISet<long>>? ClosedSinceRead(ISocketLookup? lookup) =>
        lookup is null ? null : closed => lookup.CollectClosedSinceRead(closed);

    /// <summary>
    /// Whether the socket of <paramref name="sockets"/> with a given inode is still open, for the resolver to leave out of
    /// its costly search a socket that closed since the read. Asked rarely: the index is built at the first question.
    /// </summary>
    private static Func<long, bool> IsOpenIn(List<Socket> sockets, ISocketLookup lookup)
    {
        Dictionary<long, Socket>? byInode = null;
        return inode =>
        {
            if (byInode is null)
            {
                byInode = new Dictionary<long, Socket>(sockets.Count);
                foreach (var socket in sockets)
                {
                    if (socket.Inode != 0)
                    {
                        byInode.TryAdd(socket.Inode, socket);
                    }
                }
            }

            return !byInode.TryGetValue(inode, out var found) || lookup.IsOpen(found) != false;
        };
    }

    /// <summary>
    /// Puts the previous snapshot's instance in place of each socket whose every field is unchanged (a reader that
    /// reuses them has done so for most already).
    /// </summary>
    private void ReuseUnchanged(List<Socket> sockets)
    {
        var previous = _previous;
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(sockets);
        for (var i = 0; i < span.Length; i++)
        {
            if (!span[i].IsPublished && previous.TryGet(span[i], out var before) && Same(before, span[i]))
            {
                span[i] = before;
            }
        }
    }

    /// <summary>Every field equal, owners being the same process instances.</summary>
    private static bool Same(Socket a, Socket b)
    {
        return a.Inode == b.Inode && a.State == b.State && a.Protocol == b.Protocol && a.Family == b.Family && a.Uid == b.Uid
            && a.TransmitQueue == b.TransmitQueue && a.ReceiveQueue == b.ReceiveQueue && a.Local == b.Local && a.Remote == b.Remote
            && a.Tcp == b.Tcp && ReferenceEquals(a.Namespace, b.Namespace)
            && SameOwners(a.Owners, b.Owners);
    }

    /// <summary>The same process instances, in the same order.</summary>
    private static bool SameOwners(ImmutableArray<ProcessInfo> a, ImmutableArray<ProcessInfo> b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        for (var i = 0; i < a.Length; i++)
        {
            if (!ReferenceEquals(a[i], b[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary><c>{procRoot}/sys/kernel/hostname</c> (the host's name when a container mounts the host's /proc), else the runtime's.</summary>
    public static string HostName(string procRoot)
    {
        try
        {
            var name = File.ReadAllText(Path.Combine(procRoot, "sys", "kernel", "hostname")).Trim();
            if (name.Length > 0)
            {
                return name;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // fall through to the runtime's view
        }

        return Environment.MachineName;
    }
}
