using System.Runtime.InteropServices;
using NetSocket = System.Net.Sockets.Socket;

namespace PortDashboard.Core.Reading.Namespaces;

/// <summary>setns(2), and a sock_diag socket made inside another network namespace.</summary>
internal static partial class NamespaceNative
{
    public const int CloneNewNet = 0x40000000;

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);

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
