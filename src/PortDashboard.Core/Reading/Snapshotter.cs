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
}

/// <summary>
/// Takes <see cref="Snapshot"/>s: reads the socket table, attributes it to processes and stamps it with the
/// OS port policy and host name. Not thread-safe: one caller (the snapshot service) drives it.
/// </summary>
public sealed class Snapshotter
{
    private readonly ISocketTableReader _reader;
    private readonly ProcessResolver? _resolver;
    private readonly TimeProvider _time;
    private readonly SnapshotterOptions _options;
    private readonly HashSet<long> _wanted = [];

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
        var read = _reader.Read(cancellationToken);
        LastMalformed = read.Malformed;

        var status = _resolver is null
            ? AttributionStatus.Unavailable(_reader.SupportsAttribution
                ? "process attribution is turned off"
                : $"the {_reader.Name} reader cannot see which process owns a socket")
            : Attribute(_resolver, read.Sockets, cancellationToken);

        var duration = Stopwatch.GetElapsedTime(started);
        return new Snapshot(
            [.. read.Sockets],
            takenAt,
            duration,
            _reader.Name,
            status,
            policy,
            HostName(_options.ProcRoot),
            read.Malformed.Count);
    }

    /// <summary>Attaches owners to the sockets that have a file (inode 0, e.g. TIME_WAIT, has none).</summary>
    private AttributionStatus Attribute(ProcessResolver resolver, List<Socket> sockets, CancellationToken cancellationToken)
    {
        _wanted.Clear();
        foreach (var socket in sockets)
        {
            if (socket.Inode != 0)
            {
                _wanted.Add(socket.Inode);
            }
        }

        var attribution = resolver.Resolve(_wanted, cancellationToken);
        foreach (var socket in sockets)
        {
            if (socket.Inode != 0 && attribution.OwnersByInode.TryGetValue(socket.Inode, out var owners))
            {
                socket.AttachOwners(owners);
            }
        }

        return attribution.Status;
    }

    /// <summary><c>{procRoot}/sys/kernel/hostname</c> (the host's name when a container mounts the host's /proc), else the runtime's.</summary>
    private static string HostName(string procRoot)
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
