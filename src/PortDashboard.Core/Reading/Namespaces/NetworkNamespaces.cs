using System.Globalization;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Core.Reading.Namespaces;

/// <summary>A network namespace found on the machine, and how to get into it.</summary>
/// <param name="Inode">Its nsfs inode.</param>
/// <param name="RunName">Its name under <c>/run/netns</c> (<c>ip netns add</c>); null when it has none.</param>
/// <param name="Pid">The first process found inside it (lowest pid); 0 when none is (a <c>/run/netns</c> namespace without processes).</param>
/// <param name="Container">The container of <paramref name="Pid"/>, from its cgroup; null when none.</param>
public sealed record FoundNamespace(long Inode, string? RunName, int Pid, string? Container)
{
    /// <summary>A file that refers to the namespace, for setns(2): its <c>/run/netns</c> entry, else the process's <c>ns/net</c>.</summary>
    public string Path(string procRoot, string runNetnsDirectory) => RunName is not null
        ? System.IO.Path.Combine(runNetnsDirectory, RunName)
        : System.IO.Path.Combine(procRoot, Pid.ToString(CultureInfo.InvariantCulture), "ns", "net");

    /// <summary>The display name: the <c>/run/netns</c> name, else <c>net:[inode]</c>.</summary>
    public string DisplayName => RunName ?? NetNamespace.InodeName(Inode);
}

/// <summary>
/// Lists the machine's network namespaces: the distinct <c>/proc/&lt;pid&gt;/ns/net</c> links (by inode) and the entries
/// of <c>/run/netns</c>. A process that vanishes mid-listing, or whose link is unreadable (another user's, without
/// <c>CAP_SYS_PTRACE</c>), is skipped and counted; the listing never throws for one process or one entry.
/// </summary>
public sealed class NetworkNamespaces(string procRoot, string runNetnsDirectory = "/run/netns")
{
    public string ProcRoot { get; } = procRoot;

    public string RunNetnsDirectory { get; } = runNetnsDirectory;

    /// <summary>Which of the namespaces found are listed (all when null): a bench reads only the ones it made.</summary>
    public Func<FoundNamespace, bool>? Include { get; init; }

    /// <summary>Processes whose namespace link could not be read at the last listing (permission denied; vanished ones are not counted).</summary>
    public int LastRefused { get; private set; }

    /// <summary>
    /// The inode of the namespace the proc root's own process is in (<c>{procRoot}/self/ns/net</c>): the one the host's
    /// reader reads. 0 when it cannot be read.
    /// </summary>
    public long HostInode()
    {
        return InodeOfLink(System.IO.Path.Combine(ProcRoot, "self", "ns", "net"))
            ?? InodeOfLink("/proc/self/ns/net")
            ?? 0;
    }

    /// <summary>Every namespace but <paramref name="hostInode"/>'s, ordered by inode.</summary>
    public IReadOnlyList<FoundNamespace> List(long hostInode)
    {
        var byInode = new Dictionary<long, FoundNamespace>();
        var refused = 0;
        IEnumerable<string> entries;
        try
        {
            entries = Directory.EnumerateDirectories(ProcRoot);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            entries = [];
        }

        var pids = new List<int>();
        foreach (var entry in entries)
        {
            var name = System.IO.Path.GetFileName(entry.AsSpan());
            if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0)
            {
                pids.Add(pid);
            }
        }

        pids.Sort();
        foreach (var pid in pids)
        {
            string? target;
            try
            {
                target = new FileInfo(System.IO.Path.Combine(ProcRoot, pid.ToString(CultureInfo.InvariantCulture), "ns", "net")).LinkTarget;
            }
            catch (UnauthorizedAccessException)
            {
                refused++;
                continue;
            }
            catch (IOException)
            {
                continue; // gone since the listing
            }

            if (target is not null && TryParseInode(target, out var inode) && inode != hostInode && !byInode.ContainsKey(inode))
            {
                byInode[inode] = new FoundNamespace(inode, null, pid, ContainerOf(pid));
            }
        }

        foreach (var (name, inode) in RunNetns())
        {
            if (inode == hostInode)
            {
                continue;
            }

            byInode[inode] = byInode.TryGetValue(inode, out var found)
                ? found with { RunName = name }
                : new FoundNamespace(inode, name, 0, null);
        }

        LastRefused = refused;
        return [.. byInode.Values.Where(n => Include is null || Include(n)).OrderBy(n => n.Inode)];
    }

    /// <summary>The named namespaces of <see cref="RunNetnsDirectory"/> with their inodes.</summary>
    private IEnumerable<(string Name, long Inode)> RunNetns()
    {
        string[] files;
        try
        {
            files = Directory.Exists(RunNetnsDirectory) ? Directory.GetFiles(RunNetnsDirectory) : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            yield break;
        }

        Array.Sort(files, StringComparer.Ordinal);
        foreach (var file in files)
        {
            // Null when deleted meanwhile; a file that is not a namespace has an inode too, and fails at setns.
            if (NamespaceNative.InodeOf(file) is { } value)
            {
                yield return (System.IO.Path.GetFileName(file), value);
            }
        }
    }

    private string? ContainerOf(int pid)
    {
        try
        {
            return ContainerNames.FromCgroupFile(File.ReadAllBytes(System.IO.Path.Combine(ProcRoot, pid.ToString(CultureInfo.InvariantCulture), "cgroup")));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long? InodeOfLink(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget is { } target && TryParseInode(target, out var inode) ? inode : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Parses <c>net:[4026531840]</c>.</summary>
    public static bool TryParseInode(ReadOnlySpan<char> link, out long inode)
    {
        inode = 0;
        return link.StartsWith("net:[") && link.EndsWith("]")
            && long.TryParse(link[5..^1], NumberStyles.None, CultureInfo.InvariantCulture, out inode) && inode > 0;
    }
}
