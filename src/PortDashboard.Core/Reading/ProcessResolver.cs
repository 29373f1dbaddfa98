using System.Buffers.Text;
using System.Collections.Immutable;
using System.Text;
using PortDashboard.Core.Reading.Namespaces;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Core.Reading;

/// <summary>Which processes hold which socket inodes, and how complete that answer is.</summary>
/// <param name="OwnersByInode">Owners per socket inode, each list ordered by pid and free of repeats.</param>
/// <param name="Status">Complete, partial (with counts and a note) or unavailable.</param>
public sealed record Attribution(IReadOnlyDictionary<long, ImmutableArray<ProcessInfo>> OwnersByInode, AttributionStatus Status);

/// <summary>What one attribution call read, for benchmarks and logs.</summary>
/// <param name="Full">Whether every process was read (a full scan) or only what changed (an incremental one).</param>
/// <param name="ProcessesRead">Processes whose descriptors were listed or probed.</param>
/// <param name="DescriptorsRead">Descriptor links read (one <c>readlink</c> each).</param>
/// <param name="SocketsSought">Socket inodes the call looked for: the whole table in a full scan, the new ones in an incremental one.</param>
/// <param name="ProcessesListed">Processes whose descriptor listing an incremental call read to find new sockets (a whole read is not counted).</param>
/// <param name="SocketsClosedBeforeFound">New sockets not yet found that the kernel said were closed already, so not sought further.</param>
/// <param name="SocketsClosedSinceRead">Sockets of the table the reader heard closed since it read them (their descriptors were probed as freed).</param>
public readonly record struct AttributionScan(bool Full, int ProcessesRead, int DescriptorsRead, int SocketsSought, int ProcessesListed = 0, int SocketsClosedBeforeFound = 0, int SocketsClosedSinceRead = 0);

/// <summary>
/// Attributes socket inodes to processes by scanning <c>{procRoot}/&lt;pid&gt;/fd/*</c> for <c>socket:[inode]</c>.
/// <para>
/// A process is identified by (pid, start time): its <c>stat</c> file is opened before its descriptors are listed
/// and read after, and a read of a process that exited meanwhile fails, so a pid reused during the scan is never
/// given the previous holder's sockets. The <see cref="ProcessInfo"/> of a (pid, start time) is reused from scan to
/// scan, so <c>comm</c>, <c>status</c> and the user name are read once per process.
/// </para>
/// <para>
/// A process that exits mid-scan, or whose descriptors cannot be read (another user's process without privilege;
/// even root is refused for some, e.g. pid 1 in some sandboxes), is skipped and counted, and the result is
/// <see cref="AttributionCompleteness.Partial"/>; it never fails the scan. Sockets with no file (TIME_WAIT,
/// inode 0) have no owner, and that is not an error.
/// </para>
/// <para>
/// The directory listings and <c>readlink</c> calls go straight to libc into reused buffers: measured on this
/// project's machine it allocates about 99% less than <c>Directory.Enumerate*</c> plus <c>FileInfo.LinkTarget</c>
/// and takes a third of the time, since .NET's enumerator stats every symlink twice.
/// Not thread-safe: one caller drives it.
/// </para>
/// <para>
/// <see cref="Resolve"/> scans every process each call; <see cref="ResolveIncrementally"/> keeps inode → owners
/// between calls and reads only what changed (ProcessResolver.Incremental.cs).
/// </para>
/// </summary>
public sealed partial class ProcessResolver
{
    /// <summary>How many unreadable processes the note names.</summary>
    private const int UnreadableSamplesKept = 5;

    private readonly string _procRoot;
    private readonly UserNames _userNames;
    private readonly bool _includeCommandLine;
    private readonly ProcPaths _paths;
    private readonly List<ProcEntry> _listing = [];
    private readonly List<long> _processInodes = [];
    private readonly List<int> _processFds = [];

    /// <summary>Every descriptor number the last listing of a process showed (for the free numbers between them).</summary>
    private readonly List<int> _listedFds = [];

    /// <summary>
    /// The descriptors of the last whole read of a process that hold a socket the table did not list: most often one opened
    /// after the table was read, which the next call seeks (kept as unsettled, so it is read first).
    /// </summary>
    private readonly List<int> _unlistedSocketFds = [];
    private readonly DescriptorScan _descriptorScan;
    private byte[] _statBuffer = new byte[1024];
    private byte[] _fileBuffer = new byte[4096];
    private Dictionary<(int Pid, ulong StartTime), KnownProcess> _known = [];

    public ProcessResolver(string procRoot, UserNames? userNames = null, bool includeCommandLine = false)
    {
        _procRoot = procRoot;
        _userNames = userNames ?? new UserNames();
        _includeCommandLine = includeCommandLine;
        _paths = new ProcPaths(procRoot);
        _descriptorScan = new DescriptorScan(this);
        _notWanted = inode => !_wantedNow!.Contains(inode);
    }

    /// <summary>
    /// Called with each pid after <c>{procRoot}</c> was listed and before that process is read: lets a test change
    /// the tree at the moment a real process could exit.
    /// </summary>
    internal Action<int>? BeforeProcessScan { get; set; }

    /// <summary>What the last call read.</summary>
    public AttributionScan LastScan { get; private set; }

    /// <summary>
    /// Scans every process; returns owners for the inodes in <paramref name="wanted"/> (all socket inodes when null)
    /// in a dictionary of its own.
    /// </summary>
    public Attribution Resolve(IReadOnlySet<long>? wanted = null, CancellationToken cancellationToken = default)
    {
        var owners = new Dictionary<long, ImmutableArray<ProcessInfo>>(wanted?.Count ?? 64);
        if (!OperatingSystem.IsLinux())
        {
            return new Attribution(owners, NotLinux);
        }

        _descriptorScan.TakeReadCount();
        var listError = ListProcesses();
        if (listError != 0)
        {
            return new Attribution(owners, CannotList(listError));
        }

        var known = new Dictionary<(int, ulong), KnownProcess>(_known.Count);
        var scan = new ScanCounts();
        foreach (var entry in _listing)
        {
            cancellationToken.ThrowIfCancellationRequested();
            BeforeProcessScan?.Invoke(entry.Pid);
            var outcome = ScanProcess(entry.Pid, wanted, known, out var process, out var errno);
            scan.Count(entry.Pid, outcome, errno);
            if (process is not null)
            {
                AppendOwner(owners, process);
            }
        }

        _known = known;
        LastScan = new AttributionScan(Full: true, scan.Read, _descriptorScan.TakeReadCount(), wanted?.Count ?? 0);
        return new Attribution(owners, scan.ToStatus());
    }

    private static AttributionStatus NotLinux =>
        AttributionStatus.Unavailable("process attribution reads /proc/<pid>/fd, which only Linux has");

    private AttributionStatus CannotList(int errno) =>
        AttributionStatus.Unavailable($"cannot list {_procRoot}: {Libc.Describe(errno)}");

    /// <summary>
    /// Adds the process just scanned as an owner of its inodes. Pids are visited in ascending order, so appending keeps
    /// each list ordered, and a process holding one socket on several descriptors can only repeat itself at the end.
    /// </summary>
    private void AppendOwner(Dictionary<long, ImmutableArray<ProcessInfo>> owners, KnownProcess process)
    {
        foreach (var inode in _processInodes)
        {
            if (!owners.TryGetValue(inode, out var list))
            {
                owners[inode] = process.AsSoleOwner;
            }
            else if (!ReferenceEquals(list[^1], process.Info))
            {
                owners[inode] = list.Add(process.Info);
            }
        }
    }

    /// <summary>
    /// Fills <see cref="_listing"/> with the numeric entries of the proc root, in ascending pid order, each with the
    /// entry's inode number (the kernel gives a new one when another process takes the pid); returns an errno or 0.
    /// </summary>
    private int ListProcesses()
    {
        _listing.Clear();
        var error = Libc.ForEachEntry(_paths.Root(), _listing, static (name, entryId, _, listing) =>
        {
            if (TryParsePid(name, out var pid))
            {
                listing.Add(new ProcEntry(pid, entryId));
            }

            return true;
        }, out _);
        _listing.Sort(static (a, b) => a.Pid.CompareTo(b.Pid));
        return error;
    }

    /// <summary>A pid listed in the proc root and the inode number of its entry.</summary>
    private readonly record struct ProcEntry(int Pid, ulong EntryId);

    /// <summary>
    /// Reads one process: its wanted socket descriptors into <see cref="_processInodes"/> and <see cref="_processFds"/>,
    /// and, when it holds any, who it is (<paramref name="process"/>; null otherwise).
    /// </summary>
    private ScanOutcome ScanProcess(
        int pid,
        IReadOnlySet<long>? wanted,
        Dictionary<(int, ulong), KnownProcess> known,
        out KnownProcess? process,
        out int errno)
    {
        process = null;
        _processInodes.Clear();
        _processFds.Clear();
        var prefix = _paths.SetProcess(pid);

        // Opened before the descriptors are listed, read after: the read fails if the process exited meanwhile,
        // whatever now holds its pid.
        var statFile = Libc.OpenRead(_paths.File(prefix, "stat"u8), out errno);
        if (statFile < 0)
        {
            return Libc.IsGone(errno) ? ScanOutcome.Vanished : ScanOutcome.Unreadable;
        }

        try
        {
            var descriptors = ScanDescriptors(prefix, wanted, out var sawClosed, out errno);
            if (descriptors != ScanOutcome.Scanned)
            {
                _processInodes.Clear();
                _processFds.Clear();
                return descriptors;
            }

            if (_processInodes.Count == 0 && !sawClosed)
            {
                return ScanOutcome.Scanned;
            }

            var statLength = Libc.ReadAll(statFile, ref _statBuffer, out errno);
            if (statLength < 0)
            {
                _processInodes.Clear();
                _processFds.Clear();
                return ScanOutcome.Vanished; // it exited while we listed its descriptors
            }

            if (_processInodes.Count == 0)
            {
                return ScanOutcome.Scanned; // a descriptor closed while we looked; the process lives on
            }

            var stat = _statBuffer.AsSpan(0, statLength);
            if (!TryParseStartTime(stat, out var startTime))
            {
                _processInodes.Clear();
                _processFds.Clear();
                errno = 0;
                return ScanOutcome.Unreadable;
            }

            process = Identify(prefix, pid, startTime, stat, known);
            return ScanOutcome.Scanned;
        }
        finally
        {
            Libc.Close(statFile);
        }
    }

    /// <summary>Collects the wanted socket inodes of one process's descriptors into <see cref="_processInodes"/>.</summary>
    private ScanOutcome ScanDescriptors(int prefix, IReadOnlySet<long>? wanted, out bool sawClosed, out int errno)
    {
        _descriptorScan.Start(wanted);
        _listedFds.Clear();
        _unlistedSocketFds.Clear();
        errno = Libc.ForEachEntry(_paths.File(prefix, "fd"u8), _descriptorScan, static (name, _, directory, scan) => scan.Visit(name, directory), out var opened);
        sawClosed = _descriptorScan.SawClosed;
        if (_descriptorScan.Errno != 0)
        {
            errno = _descriptorScan.Errno;
            return ScanOutcome.Unreadable;
        }

        if (errno == 0)
        {
            return ScanOutcome.Scanned;
        }

        if (Libc.IsGone(errno))
        {
            if (!opened)
            {
                return ScanOutcome.Vanished; // no fd directory: the process is gone
            }

            // The listing broke off: a process exiting while we list it. The stat read after tells.
            sawClosed = true;
            errno = 0;
            return ScanOutcome.Scanned;
        }

        return ScanOutcome.Unreadable;
    }

    /// <summary>The state of one process's descriptor listing, reused from process to process.</summary>
    private sealed class DescriptorScan(ProcessResolver owner)
    {
        private IReadOnlySet<long>? _wanted;
        private int _readCount;

        public bool SawClosed { get; private set; }

        /// <summary>Non-zero once a descriptor could not be read: the listing stops and the process is unreadable.</summary>
        public int Errno { get; private set; }

        public void Start(IReadOnlySet<long>? wanted)
        {
            _wanted = wanted;
            SawClosed = false;
            Errno = 0;
        }

        public void CountRead() => _readCount++;

        /// <summary>The descriptors read (readlink calls) since the last call.</summary>
        public int TakeReadCount()
        {
            var count = _readCount;
            _readCount = 0;
            return count;
        }

        public bool Visit(ReadOnlySpan<byte> name, int directory)
        {
            if (Utf8Parser.TryParse(name, out int listed, out var parsed) && parsed == name.Length)
            {
                owner._listedFds.Add(listed);
            }

            var result = ReadDescriptorAt(directory, name, out var inode, out var errno);
            _readCount++;
            switch (result)
            {
                case DescriptorRead.Closed:
                    SawClosed = true; // closed since the listing, or the process is exiting
                    return true;
                case DescriptorRead.Refused:
                    Errno = errno; // permission denied (then the whole process is), a loop, ...
                    return false;
                case DescriptorRead.Socket when _wanted is null || _wanted.Contains(inode):
                    owner._processInodes.Add(inode);
                    owner._processFds.Add(Utf8Parser.TryParse(name, out int fd, out var consumed) && consumed == name.Length ? fd : -1);
                    return true;
                case DescriptorRead.Socket:
                    if (Utf8Parser.TryParse(name, out int unlisted, out var length) && length == name.Length)
                    {
                        owner._unlistedSocketFds.Add(unlisted);
                    }

                    return true;
                default:
                    return true;
            }
        }
    }

    private enum DescriptorRead
    {
        /// <summary>A socket; its inode is returned.</summary>
        Socket,

        /// <summary>Open, but not a socket (a file, a pipe...), or not a link at all (only in trees that are not the kernel's).</summary>
        Other,

        /// <summary>No such descriptor (closed, or the process is exiting).</summary>
        Closed,

        /// <summary>The kernel refused to show it (permission denied, a loop...).</summary>
        Refused,
    }

    /// <summary>What the descriptor link at <paramref name="path"/> points to.</summary>
    private static DescriptorRead ReadDescriptor(ReadOnlySpan<byte> path, out long inode, out int errno)
    {
        Span<byte> target = stackalloc byte[64]; // "socket:[" + 20 digits + "]" fits; anything longer is no socket
        return Classify(Libc.ReadLink(path, target, out errno), target, errno, out inode);
    }

    /// <summary>What the listed descriptor link <paramref name="name"/> of the directory open as <paramref name="directory"/> points to.</summary>
    private static DescriptorRead ReadDescriptorAt(int directory, ReadOnlySpan<byte> name, out long inode, out int errno)
    {
        Span<byte> target = stackalloc byte[64];
        return Classify(Libc.ReadLinkAt(directory, name, target, out errno), target, errno, out inode);
    }

    private static DescriptorRead Classify(int length, ReadOnlySpan<byte> target, int errno, out long inode)
    {
        inode = 0;
        if (length < 0)
        {
            return errno switch
            {
                Libc.ENOENT => DescriptorRead.Closed,
                Libc.EINVAL => DescriptorRead.Other,
                _ => DescriptorRead.Refused,
            };
        }

        return length < target.Length && TryParseSocketInode(target[..length], out inode) ? DescriptorRead.Socket : DescriptorRead.Other;
    }

    /// <summary>The <see cref="ProcessInfo"/> for (pid, start time): the one from the last scan, or read now.</summary>
    private KnownProcess Identify(int prefix, int pid, ulong startTime, ReadOnlySpan<byte> stat, Dictionary<(int, ulong), KnownProcess> known)
    {
        if (!_known.TryGetValue((pid, startTime), out var process))
        {
            process = new KnownProcess(Describe(prefix, pid, startTime, stat));
        }

        known[(pid, startTime)] = process;
        return process;
    }

    private ProcessInfo Describe(int prefix, int pid, ulong startTime, ReadOnlySpan<byte> stat)
    {
        var name = TryReadFile(prefix, "comm"u8, out var comm)
            ? Encoding.UTF8.GetString(comm.TrimEnd((byte)'\n'))
            : CommandNameFromStat(stat);
        name = ExecutableNameFor(prefix, name);

        var uid = TryReadFile(prefix, "status"u8, out var status) && TryParseUid(status, out var parsed) ? parsed : -1;
        string? commandLine = null;
        if (_includeCommandLine && TryReadFile(prefix, "cmdline"u8, out var cmdline))
        {
            commandLine = Encoding.UTF8.GetString(cmdline).Replace('\0', ' ').TrimEnd();
        }

        var container = TryReadFile(prefix, "cgroup"u8, out var cgroup) ? ContainerNames.FromCgroupFile(cgroup) : null;
        return new ProcessInfo(pid, startTime, name, uid, uid < 0 ? "?" : _userNames.NameOf(uid)) { CommandLine = commandLine, Container = container };
    }

    /// <summary>
    /// The name to show for a process whose kernel name is <paramref name="comm"/>: the kernel keeps only the first
    /// <see cref="CommLength"/> bytes of the executable's name (<c>PortDashboard.E</c>), so a name of exactly that
    /// length is looked up in full, as htop does: the basename of the <c>exe</c> link's target, else of
    /// <c>cmdline</c>'s argv[0] (never the arguments), used only when <paramref name="comm"/> is a prefix of it.
    /// A shorter <paramref name="comm"/> is whole (it may have been set on purpose with <c>prctl</c>), so it costs no
    /// read. Called once per (pid, start time); an unreadable or vanished process keeps <paramref name="comm"/>.
    /// A <c>dotnet app.dll</c> process stays <c>dotnet</c>, as in htop: the app is an argument, not the executable.
    /// </summary>
    private string ExecutableNameFor(int prefix, string comm)
    {
        if (Encoding.UTF8.GetByteCount(comm) != CommLength)
        {
            return comm;
        }

        Span<byte> target = stackalloc byte[1024];
        var length = Libc.ReadLink(_paths.File(prefix, "exe"u8), target, out _);
        if (length > 0 && length < target.Length && FullNameOf(ExecutableBaseName(target[..length]), comm) is { } fromExe)
        {
            return fromExe;
        }

        return TryReadFile(prefix, "cmdline"u8, out var cmdline) && FullNameOf(ArgumentZeroBaseName(cmdline), comm) is { } fromArgv
            ? fromArgv
            : comm;
    }

    /// <summary>The kernel's <c>TASK_COMM_LEN</c> less its NUL: the longest <c>comm</c>, so the only one that may be cut.</summary>
    internal const int CommLength = 15;

    /// <summary><paramref name="candidate"/> when <paramref name="comm"/> is a proper prefix of it, else null.</summary>
    private static string? FullNameOf(ReadOnlySpan<byte> candidate, string comm)
    {
        if (candidate.Length <= CommLength)
        {
            return null;
        }

        var name = Encoding.UTF8.GetString(candidate);
        return name.StartsWith(comm, StringComparison.Ordinal) ? name : null;
    }

    /// <summary>The last path component of an <c>exe</c> link target, without the kernel's <c> (deleted)</c> mark.</summary>
    internal static ReadOnlySpan<byte> ExecutableBaseName(ReadOnlySpan<byte> target)
    {
        if (target.EndsWith(" (deleted)"u8))
        {
            target = target[..^" (deleted)"u8.Length];
        }

        return target[(target.LastIndexOf((byte)'/') + 1)..];
    }

    /// <summary>
    /// The last path component of argv[0] in a <c>cmdline</c> file (arguments are NUL-separated after it), cut at its
    /// first space: a process that rewrote its command line as one string (<c>app: worker --token=...</c>) has no NUL
    /// between the name and what follows, and none of that may show.
    /// </summary>
    internal static ReadOnlySpan<byte> ArgumentZeroBaseName(ReadOnlySpan<byte> cmdline)
    {
        var end = cmdline.IndexOfAny((byte)0, (byte)' ');
        var argumentZero = end < 0 ? cmdline : cmdline[..end];
        return argumentZero[(argumentZero.LastIndexOf((byte)'/') + 1)..];
    }

    /// <summary>A whole small file of the current process, into the reused buffer.</summary>
    private bool TryReadFile(int prefix, ReadOnlySpan<byte> file, out ReadOnlySpan<byte> content)
    {
        content = default;
        var handle = Libc.OpenRead(_paths.File(prefix, file), out _);
        if (handle < 0)
        {
            return false;
        }

        try
        {
            var length = Libc.ReadAll(handle, ref _fileBuffer, out _);
            if (length < 0)
            {
                return false;
            }

            content = _fileBuffer.AsSpan(0, length);
            return true;
        }
        finally
        {
            Libc.Close(handle);
        }
    }

    /// <summary>A process seen in a scan, with the one-element owner list shared by every socket it alone holds.</summary>
    private sealed class KnownProcess(ProcessInfo info)
    {
        public ProcessInfo Info { get; } = info;

        public ImmutableArray<ProcessInfo> AsSoleOwner { get; } = [info];
    }

    private enum ScanOutcome
    {
        Scanned,
        Unreadable,
        Vanished,
    }

    /// <summary>Tallies a scan and words the note that says why it is partial.</summary>
    private sealed class ScanCounts
    {
        private readonly List<(int Pid, int Errno)> _unreadableSamples = [];
        private int _scanned;
        private int _unreadable;
        private int _vanished;

        /// <summary>Processes whose descriptors were listed or probed in this call (a benchmark figure).</summary>
        public int Read { get; private set; }

        public void Count(int pid, ScanOutcome outcome, int errno)
        {
            Read++;
            switch (outcome)
            {
                case ScanOutcome.Scanned:
                    _scanned++;
                    break;
                case ScanOutcome.Vanished:
                    CountVanished();
                    break;
                case ScanOutcome.Unreadable:
                    CountUnreadable(pid, errno);
                    break;
            }
        }

        public void CountVanished() => _vanished++;

        /// <summary>A process read earlier, whose descriptors the answer still covers.</summary>
        public void CountCovered() => _scanned++;

        /// <summary>An unreadable process; samples are kept for the lowest pids when counted in ascending pid order.</summary>
        public void CountUnreadable(int pid, int errno)
        {
            _unreadable++;
            if (_unreadableSamples.Count < UnreadableSamplesKept)
            {
                _unreadableSamples.Add((pid, errno));
            }
        }

        public AttributionStatus ToStatus() => AttributionStatus.FromScan(_scanned, _unreadable, _vanished, Note());

        private string? Note()
        {
            var parts = new List<string>(2);
            if (_unreadable > 0)
            {
                var samples = string.Join(", ", _unreadableSamples.Select(s => $"pid {s.Pid}: {(s.Errno == 0 ? "malformed stat" : Libc.Describe(s.Errno))}"));
                var more = _unreadable > _unreadableSamples.Count ? ", ..." : "";
                var advice = Environment.IsPrivilegedProcess
                    ? "Attribution needs root, or CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH; this process already runs as root, so the kernel or a sandbox refuses these processes even to root"
                    : "Run as root, or grant CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH, to attribute every socket";
                parts.Add($"{_unreadable} process(es) could not be read ({samples}{more}), so their sockets show no owner. {advice}");
            }

            if (_vanished > 0)
            {
                parts.Add($"{_vanished} process(es) exited during the scan");
            }

            return parts.Count == 0 ? null : string.Join("; ", parts);
        }
    }

    private static bool TryParsePid(ReadOnlySpan<byte> name, out int pid) =>
        Utf8Parser.TryParse(name, out pid, out var consumed) && consumed == name.Length && pid > 0 && name[0] != (byte)'0';

    /// <summary>The inode of a <c>socket:[12345]</c> link target.</summary>
    internal static bool TryParseSocketInode(ReadOnlySpan<byte> target, out long inode)
    {
        inode = 0;
        if (!target.StartsWith("socket:["u8) || target.Length < 10 || target[^1] != (byte)']')
        {
            return false;
        }

        var digits = target[8..^1];
        if (Utf8Parser.TryParse(digits, out long value, out var consumed) && consumed == digits.Length && value > 0)
        {
            inode = value;
            return true;
        }

        return false;
    }

    /// <summary>
    /// Field 22 of <c>/proc/&lt;pid&gt;/stat</c> (start time, clock ticks after boot), counted from the command name's
    /// last closing parenthesis: the name (field 2) may itself hold spaces and parentheses.
    /// </summary>
    internal static bool TryParseStartTime(ReadOnlySpan<byte> stat, out ulong startTime)
    {
        startTime = 0;
        var close = stat.LastIndexOf((byte)')');
        if (close < 0)
        {
            return false;
        }

        var rest = stat[(close + 1)..];
        var field = 2;
        foreach (var range in rest.SplitAny(" \n"u8))
        {
            var token = rest[range];
            if (!token.IsEmpty && ++field == 22)
            {
                return Utf8Parser.TryParse(token, out startTime, out var consumed) && consumed == token.Length;
            }
        }

        return false;
    }

    /// <summary>Field 2 of <c>stat</c> without its parentheses: the name when <c>comm</c> cannot be read.</summary>
    internal static string CommandNameFromStat(ReadOnlySpan<byte> stat)
    {
        var open = stat.IndexOf((byte)'(');
        var close = stat.LastIndexOf((byte)')');
        return open >= 0 && close > open ? Encoding.UTF8.GetString(stat[(open + 1)..close]) : "?";
    }

    /// <summary>The real uid: the first number of the <c>Uid:</c> line of <c>/proc/&lt;pid&gt;/status</c> (real, effective, saved, fs).</summary>
    internal static bool TryParseUid(ReadOnlySpan<byte> status, out int uid)
    {
        uid = -1;
        foreach (var range in status.Split((byte)'\n'))
        {
            var line = status[range];
            if (!line.StartsWith("Uid:"u8))
            {
                continue;
            }

            var values = line[4..].TrimStart(" \t"u8);
            var end = values.IndexOfAny(" \t"u8);
            var first = end < 0 ? values : values[..end];
            if (Utf8Parser.TryParse(first, out int value, out var consumed) && consumed == first.Length && value >= 0)
            {
                uid = value;
                return true;
            }

            return false;
        }

        return false;
    }
}
