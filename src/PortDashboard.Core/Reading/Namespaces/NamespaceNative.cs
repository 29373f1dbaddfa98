using System.Runtime.InteropServices;
using NetSocket = System.Net.Sockets.Socket;

namespace PortDashboard.Core.Reading.Namespaces;

/// <summary>setns(2), and a sock_diag socket made inside another network namespace.</summary>
internal static partial class NamespaceNative
{
    public const int CloneNewNet = 0x40000000;

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);

    private const int AtFdCwd = -100;
    private const uint StatxIno = 0x100;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int directory, string path, int flags, uint mask, byte* buffer);

    /// <summary>
    /// The inode of the file at <paramref name="path"/> (a <c>/run/netns</c> entry is the namespace's nsfs file, bind-mounted:
    /// its inode is the namespace's, while the link of a descriptor opened on it names the path). statx(2), whose struct is
    /// the same on every architecture: <c>stx_ino</c> at byte 32. Null when it fails.
    /// </summary>
    public static unsafe long? InodeOf(string path)
    {
        var buffer = stackalloc byte[256];
        if (Statx(AtFdCwd, path, 0, StatxIno, buffer) != 0 || (*(uint*)buffer & StatxIno) == 0)
        {
            return null;
        }

        return (long)*(ulong*)(buffer + 32);
    }

    /// <summary>
    /// A sock_diag socket of the namespace <paramref name="path"/> refers to (<c>/run/netns/NAME</c> or
    /// <c>/proc/PID/ns/net</c>): made on a thread of its own that joins the namespace with setns(2) and then ends, since a
    /// thread cannot be trusted back into the pool in another namespace. The socket stays bound to that namespace and may
    /// be used from any thread. setns needs <c>CAP_SYS_ADMIN</c>; the failure says so.
    /// </summary>
    public static NetSocket OpenSockDiagIn(string path)
    {
        NetSocket? socket = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                if (SetNs((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    throw new UnauthorizedAccessException(
                        $"setns({path}) failed: {Marshal.GetPInvokeErrorMessage(errno)}" + (errno == 1 ? " (it needs CAP_SYS_ADMIN)" : ""));
                }

                socket = Netlink.NetlinkReader.Open();
            }
            catch (Exception e)
            {
                failure = e;
            }
        })
        {
            IsBackground = true,
            Name = "netns setns",
        };
        thread.Start();
        thread.Join();
        return socket ?? throw failure switch
        {
            IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException => failure,
            _ => new IOException($"no sock_diag socket in {path}: {failure?.Message}", failure),
        };
    }
}
