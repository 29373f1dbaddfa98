using PortDashboard.Core.Sockets;

namespace PortDashboard.Core.Reading;

/// <summary>
/// A reader that chooses the real one (<see cref="SocketTableReaders.Create"/>) again whenever it has to: at the first
/// read, after any failed read, and when the proc root's <c>net/tcp</c> has gone. A proc root that is missing at start
/// (a container whose <c>/host/proc</c> is not mounted yet) or that disappears later makes reads fail with a message
/// naming it, and the first read after it is back picks the right reader again: no restart needed.
/// <para>
/// Where a proc root is expected (Linux, or any proc root that has <c>net/tcp</c> at start) the portable reader is
/// never chosen in its place: it would show a table without owners and without saying that the proc root is gone.
/// Elsewhere (no /proc at all) the portable reader is the reader. Not thread-safe, like the readers it wraps.
/// </para>
/// </summary>
public sealed class ReselectingReader : IReusingSocketTableReader, ISocketLookup, IDisposable
{
    private readonly string _procRoot;
    private readonly bool _requiresProcRoot;
    private ISocketTableReader? _current;

    public ReselectingReader(string procRoot)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(procRoot);
        _procRoot = procRoot;
        _requiresProcRoot = OperatingSystem.IsLinux() || ProcNetReader.IsAvailable(procRoot);
        try
        {
            Select();
        }
        catch (IOException e)
        {
            Note = e.Message; // the first read fails with the same message, and the service reports it
        }
    }

    /// <summary>The chosen reader's name, or <c>none</c> while the proc root is unavailable.</summary>
    public string Name => _current?.Name ?? "none";

    /// <summary>Fixed at construction: whether the readers this one picks carry inodes to attribute.</summary>
    public bool SupportsAttribution => _requiresProcRoot;

    /// <summary>Why the chosen reader is not the fastest one, or why there is none; null when nothing is worth saying.</summary>
    public string? Note { get; private set; }

    /// <summary>How many times a reader was chosen (1 after a good start; each recovery adds one).</summary>
    public int Selections { get; private set; }

    public SocketTableRead Read(CancellationToken cancellationToken = default) => Read(null, cancellationToken);

    /// <summary>Reuses unchanged sockets when the reader in use can; reads as <see cref="Read(CancellationToken)"/> otherwise.</summary>
    public SocketTableRead ReadReusing(Snapshot previous, CancellationToken cancellationToken = default) => Read(previous, cancellationToken);

    private SocketTableRead Read(Snapshot? previous, CancellationToken cancellationToken)
    {
        if (_current is not null && _requiresProcRoot && !ProcNetReader.IsAvailable(_procRoot))
        {
            Drop(); // netlink would go on reading, but owners, the port policy and the host name come from the proc root
        }

        var reader = _current ?? Select();
        try
        {
            return previous is not null && reader is IReusingSocketTableReader reusing
                ? reusing.ReadReusing(previous, cancellationToken)
                : reader.Read(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Drop(); // the next read probes again, whatever broke
            throw;
        }
    }

    /// <summary>Asks the reader in use, when it can tell.</summary>
    public bool? IsOpen(Socket socket) => (_current as ISocketLookup)?.IsOpen(socket);

    /// <summary>Asks the reader in use, when it can tell.</summary>
    public bool CollectClosedSinceRead(ISet<long> inodes) => (_current as ISocketLookup)?.CollectClosedSinceRead(inodes) ?? false;

    public void Dispose() => Drop();

    private ISocketTableReader Select()
    {
        if (_requiresProcRoot && !ProcNetReader.IsAvailable(_procRoot))
        {
            var what = Directory.Exists(_procRoot)
                ? $"the proc root {_procRoot} has no readable net/tcp"
                : $"the proc root {_procRoot} does not exist";
            throw new DirectoryNotFoundException(
                $"{what}: is /proc mounted there (PortDashboard:ProcRoot; /host/proc in a container)? Retrying until it is back.");
        }

        var reader = SocketTableReaders.Create(_procRoot, ReaderKind.Auto, out var note);
        _current = reader;
        Note = note;
        Selections++;
        return reader;
    }

    private void Drop()
    {
        (_current as IDisposable)?.Dispose();
        _current = null;
    }
}
