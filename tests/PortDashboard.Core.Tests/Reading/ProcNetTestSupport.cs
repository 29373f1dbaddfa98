using System.Diagnostics;
using PortDashboard.Core.Sockets;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Core.Tests.Reading;

/// <summary>Fixture proc roots, a plain-text form of a socket for exact comparisons, and waiting with a deadline.</summary>
internal static class ProcNetTestSupport
{
    /// <summary>A proc root captured on the build machine: <c>Fixtures/proc/{name}</c> in the test output.</summary>
    public static string FixtureRoot(string name)
    {
        var root = Path.Combine(AppContext.BaseDirectory, "Fixtures", "proc", name);
        Assert.True(Directory.Exists(root), $"fixture proc root {root} is missing from the test output");
        return root;
    }

    public static byte[] FixtureTable(string root, string table) =>
        File.ReadAllBytes(Path.Combine(FixtureRoot(root), "net", table));

    /// <summary>
    /// Everything the parser reads, with addresses spelled out (0.0.0.0 and :: rather than <c>*</c>), e.g.
    /// <c>TCP IPv6 [::ffff:127.0.0.1]:18082 [::ffff:127.0.0.1]:40000 ESTABLISHED q=0:100 uid=0 inode=49340</c>.
    /// </summary>
    public static string Describe(Socket socket) =>
        $"{socket.Protocol.ToDisplayName()} {socket.Family} {Describe(socket.Local)} {Describe(socket.Remote)} "
        + $"{socket.State.ToDisplayName()} q={socket.TransmitQueue}:{socket.ReceiveQueue} uid={socket.Uid} inode={socket.Inode}";

    public static string Describe(Endpoint endpoint)
    {
        var address = endpoint.Address.ToIPAddress().ToString();
        return endpoint.Address.IsIPv6 ? $"[{address}]:{endpoint.Port}" : $"{address}:{endpoint.Port}";
    }

    /// <summary>A fresh empty directory that is deleted when disposed.</summary>
    public static TempDirectory CreateTempDirectory() => new(Directory.CreateTempSubdirectory("portdashboard-proc-").FullName);

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes; returns whether it held.</summary>
    public static bool WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            if (condition())
            {
                return true;
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                return false;
            }

            Thread.Sleep(10);
        }
    }

    internal sealed class TempDirectory(string path) : IDisposable
    {
        public string Path { get; } = path;

        public string Write(string relativePath, string text) => Write(relativePath, System.Text.Encoding.UTF8.GetBytes(text));

        public string Write(string relativePath, byte[] bytes)
        {
            var full = System.IO.Path.Combine(Path, relativePath);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
            File.WriteAllBytes(full, bytes);
            return full;
        }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
