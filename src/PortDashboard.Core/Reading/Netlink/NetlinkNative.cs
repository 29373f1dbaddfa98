using System.Runtime.InteropServices;

namespace PortDashboard.Core.Reading.Netlink;

/// <summary>The one libc call .NET cannot make for us: its Socket constructor refuses AF_NETLINK.</summary>
internal static partial class NetlinkNative
{
    public const int AfNetlink = 16;
    public const int SockRaw = 3;
    public const int SockCloexec = 0x80000;
    public const int NetlinkSockDiag = 4;

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    /// <summary>Binds a netlink socket to the multicast groups in <paramref name="groups"/> (bit n-1 for group n).</summary>
    public static unsafe int BindGroups(int fd, uint groups)
    {
        // struct sockaddr_nl { sa_family_t nl_family; unsigned short nl_pad; __u32 nl_pid; __u32 nl_groups; }
        Span<byte> address = stackalloc byte[12];
        address.Clear();
        BitConverter.TryWriteBytes(address, (ushort)AfNetlink);
        BitConverter.TryWriteBytes(address[8..], groups);
        fixed (byte* pointer = address)
        {
            return Bind(fd, pointer, address.Length);
        }
    }

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    private static unsafe partial int Bind(int fd, byte* address, int length);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);
}
