using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Text;

namespace PortDashboard.Core.Tests.Support;

/// <summary>
/// A proc root built in a temporary directory at test time, shaped like the kernel's:
/// <c>&lt;pid&gt;/{comm,stat,status}</c>, <c>&lt;pid&gt;/fd/&lt;n&gt;</c> symlinks to <c>socket:[inode]</c> (dangling, as
/// the kernel's look from outside /proc), <c>net/{tcp,udp,...}</c>, <c>sys/kernel/hostname</c> and the port sysctls.
/// Deleted on dispose.
/// </summary>
public sealed class FakeProcTree : IDisposable
{
    public FakeProcTree() => Root = Directory.CreateTempSubdirectory("portdashboard-proc-").FullName;

    public string Root { get; }

    public string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>A process with its <c>comm</c>, <c>stat</c> and (unless <paramref name="uid"/> is null) <c>status</c>, and an empty fd directory.</summary>
    public FakeProcTree AddProcess(int pid, string comm = "server", ulong startTime = 1000, int? uid = 0)
    {
        Directory.CreateDirectory(PathOf(Pid(pid), "fd"));
        WriteFile($"{Pid(pid)}/comm", comm + "\n");
        WriteStat(pid, comm, startTime);
        if (uid is { } u)
        {
            WriteFile(
                $"{Pid(pid)}/status",
                $"Name:\t{comm}\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t{Pid(pid)}\nPid:\t{Pid(pid)}\nPPid:\t1\n" +
                $"TracerPid:\t0\nUid:\t{u}\t{u}\t{u}\t{u}\nGid:\t{u}\t{u}\t{u}\t{u}\nFDSize:\t64\n");
        }

        return this;
    }

    /// <summary>The stat line as the kernel prints it: start time is field 22, after the parenthesised command name.</summary>
    public void WriteStat(int pid, string comm, ulong startTime) =>
        WriteFile(
            $"{Pid(pid)}/stat",
            $"{Pid(pid)} ({comm}) S 1 {Pid(pid)} {Pid(pid)} 0 -1 4194560 1523 0 0 0 12 3 0 0 20 0 1 0 " +
            $"{startTime.ToString(CultureInfo.InvariantCulture)} 12345678 900 18446744073709551615 1 1 0 0 0 0 0 4096 1260 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0\n");

    /// <summary>Descriptor <paramref name="fd"/> of <paramref name="pid"/> holding socket <paramref name="inode"/>.</summary>
    public FakeProcTree AddSocket(int pid, int fd, long inode) =>
        AddDescriptor(pid, fd, $"socket:[{inode.ToString(CultureInfo.InvariantCulture)}]");

    /// <summary>Descriptor <paramref name="fd"/> of <paramref name="pid"/> as a symlink to <paramref name="target"/> (a file, a pipe, ...).</summary>
    public FakeProcTree AddDescriptor(int pid, int fd, string target)
    {
        File.CreateSymbolicLink(PathOf(Pid(pid), "fd", fd.ToString(CultureInfo.InvariantCulture)), target);
        return this;
    }

    public void WriteFile(string relativePath, string content)
    {
        var path = Path.Combine(Root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content, new UTF8Encoding(false));
    }

    /// <summary>Writes <c>net/tcp</c> (header plus <paramref name="lines"/>), as <see cref="TcpLine"/> formats them.</summary>
    public void WriteNetTcp(params string[] lines) =>
        WriteFile("net/tcp", "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" + string.Concat(lines.Select(l => l + "\n")));

    /// <summary>One line of <c>/proc/net/tcp</c>: the address is the kernel's little-endian word in hex.</summary>
    public static string TcpLine(int slot, string local, int localPort, string remote, int remotePort, int state, long inode, int uid = 0) =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"{slot,4}: {Hex(local)}:{localPort:X4} {Hex(remote)}:{remotePort:X4} {state:X2} 00000000:00000000 00:00000000 00000000 {uid,5} {0,8} {inode} 1 0000000000000000 100 0 0 10 0");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // a leftover temp directory is not a test failure
        }
    }

    private static string Pid(int pid) => pid.ToString(CultureInfo.InvariantCulture);

    private static string Hex(string address)
    {
        var bytes = IPAddress.Parse(address).GetAddressBytes();
        // The kernel prints the address's in-memory word as a number: little-endian on the machines we read.
        return BinaryPrimitives.ReadUInt32LittleEndian(bytes).ToString("X8", CultureInfo.InvariantCulture);
    }
}
