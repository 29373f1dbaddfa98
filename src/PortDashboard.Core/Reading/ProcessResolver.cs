using System.Collections.Immutable;
using System.Text;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Core.Reading;

/// <summary>Which processes hold which socket inodes, and how complete that answer is.</summary>
public sealed record Attribution(IReadOnlyDictionary<long, ImmutableArray<ProcessInfo>> OwnersByInode, AttributionStatus Status);

/// <summary>
/// Attributes socket inodes to processes by scanning <c>{procRoot}/&lt;pid&gt;/fd/*</c> for <c>socket:[inode]</c>.
/// A process that cannot be read (permission denied) or exits mid-scan is skipped and counted; it never fails the scan.
/// Processes are identified by (pid, start time) and their <see cref="ProcessInfo"/> reused between scans.
/// </summary>
public sealed class ProcessResolver
{
    private const string SocketLinkPrefix = "socket:[";

    private readonly string _procRoot;
    private readonly UserNames _userNames;
    private readonly bool _includeCommandLine;
    private Dictionary<(int Pid, ulong StartTime), ProcessInfo> _known = [];

    public ProcessResolver(string procRoot, UserNames? userNames = null, bool includeCommandLine = false)
    {
        _procRoot = procRoot;
        _userNames = userNames ?? new UserNames();
        _includeCommandLine = includeCommandLine;
    }

    /// <summary>Scans every process; returns owners for the inodes in <paramref name="wanted"/> (all socket inodes when null).</summary>
    public Attribution Resolve(IReadOnlySet<long>? wanted = null, CancellationToken cancellationToken = default)
    {
        var owners = new Dictionary<long, ImmutableArray<ProcessInfo>>();
        var known = new Dictionary<(int, ulong), ProcessInfo>(_known.Count);
        int scanned = 0, unreadable = 0, vanished = 0;

        IEnumerable<string> pidDirectories;
        try
        {
            pidDirectories = Directory.EnumerateDirectories(_procRoot);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new Attribution(owners, new AttributionStatus(AttributionCompleteness.Unavailable, 0, 0, $"cannot list {_procRoot}: {e.Message}"));
        }

        foreach (var directory in pidDirectories)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!int.TryParse(Path.GetFileName(directory.AsSpan()), out var pid) || pid <= 0)
            {
                continue;
            }

            switch (ScanProcess(directory, pid, wanted, owners, known))
            {
                case ScanOutcome.Scanned:
                    scanned++;
                    break;
                case ScanOutcome.Unreadable:
                    unreadable++;
                    break;
                case ScanOutcome.Vanished:
                    vanished++;
                    break;
            }
        }

        _known = known;
        var skipped = unreadable + vanished;
        var status = skipped == 0
            ? new AttributionStatus(AttributionCompleteness.Complete, scanned, 0)
            : new AttributionStatus(AttributionCompleteness.Partial, scanned, skipped, Describe(unreadable, vanished));
        return new Attribution(owners, status);
    }

    private static string Describe(int unreadable, int vanished)
    {
        var parts = new List<string>(2);
        if (unreadable > 0)
        {
            parts.Add($"{unreadable} process(es) could not be read (permission denied); run as root, or grant CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH, to attribute every socket");
        }

        if (vanished > 0)
        {
            parts.Add($"{vanished} process(es) exited during the scan");
        }

        return string.Join("; ", parts);
    }

    private enum ScanOutcome
    {
        Scanned,
        Unreadable,
        Vanished,
    }

    private ScanOutcome ScanProcess(
        string directory,
        int pid,
        IReadOnlySet<long>? wanted,
        Dictionary<long, ImmutableArray<ProcessInfo>> owners,
        Dictionary<(int, ulong), ProcessInfo> known)
    {
        List<long>? inodes = null;
        try
        {
            foreach (var fd in Directory.EnumerateFileSystemEntries(Path.Combine(directory, "fd")))
            {
                string? target;
                try
                {
                    target = new FileInfo(fd).LinkTarget;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    continue; // the descriptor was closed while we looked
                }

                if (target is null || !target.StartsWith(SocketLinkPrefix, StringComparison.Ordinal) || target[^1] != ']'
                    || !long.TryParse(target.AsSpan(SocketLinkPrefix.Length, target.Length - SocketLinkPrefix.Length - 1), out var inode))
                {
                    continue;
                }

                if (wanted is null || wanted.Contains(inode))
                {
                    (inodes ??= []).Add(inode);
                }
            }
        }
        catch (UnauthorizedAccessException)
        {
            return ScanOutcome.Unreadable;
        }
        catch (DirectoryNotFoundException)
        {
            return ScanOutcome.Vanished;
        }
        catch (IOException)
        {
            return Directory.Exists(directory) ? ScanOutcome.Unreadable : ScanOutcome.Vanished;
        }

        if (inodes is null)
        {
            return ScanOutcome.Scanned;
        }

        var process = Describe(directory, pid, known);
        if (process is null)
        {
            return ScanOutcome.Vanished;
        }

        foreach (var inode in inodes)
        {
            if (!owners.TryGetValue(inode, out var list))
            {
                owners[inode] = [process];
            }
            else if (!list.Contains(process))
            {
                owners[inode] = list.Add(process);
            }
        }

        return ScanOutcome.Scanned;
    }

    /// <summary>Reads who a process is; null when it exited meanwhile.</summary>
    private ProcessInfo? Describe(string directory, int pid, Dictionary<(int, ulong), ProcessInfo> known)
    {
        var stat = TryReadText(Path.Combine(directory, "stat"));
        if (stat is null || !TryParseStartTime(stat, out var startTime))
        {
            return null;
        }

        if (known.TryGetValue((pid, startTime), out var process) || _known.TryGetValue((pid, startTime), out process))
        {
            known[(pid, startTime)] = process;
            return process;
        }

        var name = TryReadText(Path.Combine(directory, "comm"))?.TrimEnd('\n') ?? CommandNameFromStat(stat);
        var status = TryReadText(Path.Combine(directory, "status"));
        var uid = status is not null && TryParseUid(status, out var parsedUid) ? parsedUid : -1;
        string? commandLine = null;
        if (_includeCommandLine)
        {
            commandLine = TryReadText(Path.Combine(directory, "cmdline"))?.Replace('\0', ' ').TrimEnd();
        }

        process = new ProcessInfo(pid, startTime, name, uid, uid < 0 ? "?" : _userNames.NameOf(uid)) { CommandLine = commandLine };
        known[(pid, startTime)] = process;
        return process;
    }

    /// <summary>Field 22 of /proc/&lt;pid&gt;/stat, counted after the command name's closing parenthesis (names may hold spaces and parentheses).</summary>
    internal static bool TryParseStartTime(string stat, out ulong startTime)
    {
        startTime = 0;
        var close = stat.LastIndexOf(')');
        if (close < 0)
        {
            return false;
        }

        // After ") " come fields 3.. ; start time is field 22, so the 20th token after the parenthesis.
        var rest = stat.AsSpan(close + 1);
        var field = 2;
        foreach (var range in rest.SplitAny(' ', '\n'))
        {
            var token = rest[range];
            if (token.IsEmpty)
            {
                continue;
            }

            field++;
            if (field == 22)
            {
                return ulong.TryParse(token, out startTime);
            }
        }

        return false;
    }

    private static string CommandNameFromStat(string stat)
    {
        var open = stat.IndexOf('(');
        var close = stat.LastIndexOf(')');
        return open >= 0 && close > open ? stat[(open + 1)..close] : "?";
    }

    /// <summary>The real uid from the <c>Uid:</c> line of /proc/&lt;pid&gt;/status.</summary>
    internal static bool TryParseUid(string status, out int uid)
    {
        uid = -1;
        var index = status.StartsWith("Uid:", StringComparison.Ordinal) ? 0 : status.IndexOf("\nUid:", StringComparison.Ordinal) + 1;
        if (index < 0 || (index == 0 && !status.StartsWith("Uid:", StringComparison.Ordinal)))
        {
            return false;
        }

        var line = status.AsSpan(index + 4);
        var end = line.IndexOf('\n');
        if (end >= 0)
        {
            line = line[..end];
        }

        line = line.TrimStart(" \t");
        var space = line.IndexOfAny(' ', '\t');
        return int.TryParse(space < 0 ? line : line[..space], out uid);
    }

    private static string? TryReadText(string path)
    {
        try
        {
            return File.ReadAllText(path, Encoding.UTF8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
