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

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);
}
