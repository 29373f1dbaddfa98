using Microsoft.Win32.SafeHandles;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Core.Reading;

/// <summary>
/// Reads <c>/proc/net/{tcp,tcp6,udp,udp6}</c> under a proc root. <c>tcp6</c>, <c>udp</c> or <c>udp6</c> being
/// absent (a kernel without IPv6) is not an error: that table is skipped. <c>net/tcp</c> being absent means the
/// root is not a Linux proc root: the read throws a <see cref="FileNotFoundException"/> that says so.
/// Malformed lines never throw (see <see cref="ProcNetParser"/>). Not thread-safe: one instance reuses its read
/// buffer between polls.
/// </summary>
public sealed class ProcNetReader : ISocketTableReader
{
    private static readonly (string File, TransportProtocol Protocol, IpVersion Family)[] Tables =
    [
        ("tcp", TransportProtocol.Tcp, IpVersion.IPv4),
        ("tcp6", TransportProtocol.Tcp, IpVersion.IPv6),
        ("udp", TransportProtocol.Udp, IpVersion.IPv4),
        ("udp6", TransportProtocol.Udp, IpVersion.IPv6),
    ];

    private readonly string _procRoot;
    private byte[] _buffer = new byte[64 * 1024];
    private int _expectedSockets = 64;

    public ProcNetReader(string procRoot)
    {
        ArgumentException.ThrowIfNullOrEmpty(procRoot);
        _procRoot = procRoot;
    }

    public string Name => "proc-net";

    public bool SupportsAttribution => true;

    /// <summary>Whether this proc root has the tables this reader needs.</summary>
    public static bool IsAvailable(string procRoot) => File.Exists(Path.Combine(procRoot, "net", "tcp"));

    public SocketTableRead Read(CancellationToken cancellationToken = default)
    {
        var sockets = new List<Socket>(_expectedSockets + (_expectedSockets / 8));
        var malformed = new MalformedInput();
        foreach (var (file, protocol, family) in Tables)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var path = Path.Combine(_procRoot, "net", file);
            int length;
            try
            {
                length = ReadWholeFile(path);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                if (file == "tcp")
                {
                    throw new FileNotFoundException(
                        $"{path} does not exist, so {_procRoot} is not a Linux proc root with socket tables "
                        + "(mount the host's /proc there, or use the portable reader).",
                        path,
                        e);
                }

                continue; // no IPv6, or no UDP table in this namespace
            }

            ProcNetParser.Parse(_buffer.AsSpan(0, length), protocol, family, sockets, malformed, path);
        }

        _expectedSockets = sockets.Count;
        return new SocketTableRead(sockets, malformed);
    }

    /// <summary>Reads a file whose size /proc reports as 0 into the reused buffer, growing it as needed.</summary>
    private int ReadWholeFile(string path)
    {
        using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var total = 0;
        while (true)
        {
            if (total == _buffer.Length)
            {
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }

            var read = RandomAccess.Read(handle, _buffer.AsSpan(total), total);
            if (read == 0)
            {
                return total;
            }

            total += read;
        }
    }
}
