using PortDashboard.Core.Reading.Netlink;

namespace PortDashboard.Core.Reading;

/// <summary>Which reader to use; <see cref="Auto"/> picks the fastest this machine offers.</summary>
public enum ReaderKind
{
    /// <summary>netlink sock_diag when it answers for the proc root's network namespace, else /proc/net, else portable.</summary>
    Auto,
    Netlink,
    ProcNet,
    Portable,
}

/// <summary>Chooses the reader for a proc root.</summary>
public static class SocketTableReaders
{
    /// <summary>The fastest reader that sees the proc root's sockets; <paramref name="note"/> says why others were passed over.</summary>
    public static ISocketTableReader Create(string procRoot, ReaderKind kind, out string? note)
    {
        note = null;
        switch (kind)
        {
            case ReaderKind.Netlink:
                return NetlinkReader.TryCreate(out var refused)
                    ?? throw new InvalidOperationException($"the netlink reader was asked for, but sock_diag is refused: {refused}");
            case ReaderKind.ProcNet:
                return new ProcNetReader(procRoot);
            case ReaderKind.Portable:
                return new PortableReader();
        }

        if (SharesOurNetworkNamespace(procRoot))
        {
            if (NetlinkReader.TryCreate(out var whyNot) is { } netlink)
            {
                return netlink;
            }

            note = $"netlink sock_diag refused ({whyNot}); reading /proc/net instead";
        }

        if (ProcNetReader.IsAvailable(procRoot))
        {
            return new ProcNetReader(procRoot);
        }

        note = $"{Path.Combine(procRoot, "net", "tcp")} is absent; using the portable reader (no owners)";
        return new PortableReader();
    }

    /// <summary><see cref="Create"/> with <see cref="ReaderKind.Auto"/>.</summary>
    public static ISocketTableReader CreateDefault(string procRoot) => Create(procRoot, ReaderKind.Auto, out _);

    /// <summary>
    /// netlink answers for this process's network namespace; it is the right source only when the proc root
    /// describes that same namespace (the real /proc, or a host's /proc mounted into a container on the host network).
    /// A fixture directory or another namespace's /proc is read as files.
    /// </summary>
    internal static bool SharesOurNetworkNamespace(string procRoot)
    {
        try
        {
            var ours = new FileInfo("/proc/self/ns/net").LinkTarget;
            var theirs = new FileInfo(Path.Combine(procRoot, "self", "ns", "net")).LinkTarget;
            return ours is not null && ours == theirs;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
