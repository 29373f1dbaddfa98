using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Core.Tests.Reading;

/// <summary>
/// Runs alone: starting a process forks this one, and until the child execs it holds copies of this process's sockets,
/// which the live snapshot tests running beside it would see as a second owner.
/// </summary>
[CollectionDefinition(nameof(StartsProcesses), DisableParallelization = true)]
public sealed class StartsProcesses;

/// <summary>
/// Incremental attribution against the real /proc: real processes (a Python helper that opens, accepts, closes and forks)
/// hold real sockets, and after each step the incremental answer for their inodes equals a fresh full scan's.
/// </summary>
[Collection(nameof(StartsProcesses))]
public sealed class IncrementalAttributionLiveTests
{
    // Reads one command per line and answers "ok ..." with what it made (socket ids and inodes, child pids).
    private const string Helper = """
        import os, signal, socket, sys, time
        signal.alarm(300)
        socks, children = {}, []
        def ino(s): return os.fstat(s.fileno()).st_ino
        def add(s):
            socks[len(socks) + 1] = s
            return len(socks)
        for line in sys.stdin:
            cmd = line.split()
            if cmd[0] == "listen":
                s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
                print("ok", add(s), ino(s), flush=True)
            elif cmd[0] == "connect":
                l = socks[int(cmd[1])]
                c = socket.create_connection(l.getsockname()); a, _ = l.accept()
                print("ok", add(c), ino(c), add(a), ino(a), flush=True)
            elif cmd[0] == "udp6":
                s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("::1", 0))
                print("ok", add(s), ino(s), flush=True)
            elif cmd[0] == "close":
                socks[int(cmd[1])].close()
                print("ok", flush=True)
            elif cmd[0] == "fork":
                pid = os.fork()
                if pid == 0:
                    signal.alarm(300)
                    while True: time.sleep(60)
                children.append(pid)
                print("ok", pid, flush=True)
            elif cmd[0] == "kill":
                pid = children.pop(); os.kill(pid, signal.SIGKILL); os.waitpid(pid, 0)
                print("ok", flush=True)
        for pid in children: os.kill(pid, signal.SIGKILL)
        """;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task With_real_processes_forking_and_opening_sockets_the_incremental_answer_equals_a_fresh_full_scan()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() && File.Exists("/usr/bin/python3"), "needs Linux and python3 to run the socket-holding helper");
        using var helper = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-u", "-c", Helper])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        try
        {
            var parent = helper.Id;
            var resolver = new ProcessResolver("/proc");
            var table = new HashSet<long>();

            var listener = await Send(helper, "listen");
            table.Add(listener[1]);
            var first = await Send(helper, $"connect {listener[0]}");
            table.UnionWith([first[1], first[3]]);
            resolver.ResolveIncrementally(table, cancellationToken: Ct);
            Assert.True(resolver.LastScan.Full);

            var second = await Send(helper, $"connect {listener[0]}");
            table.UnionWith([second[1], second[3]]);
            var afterConnect = AssertSameAsFullScan(resolver, table, "two new connected sockets");
            Assert.Equal((false, 2), (resolver.LastScan.Full, resolver.LastScan.SocketsSought));
            Assert.Equal([parent], Pids(afterConnect, second[1]));

            var child = (int)(await Send(helper, "fork"))[0];
            var afterFork = AssertSameAsFullScan(resolver, table, "a fork: the child holds every socket too");
            Assert.Equal([parent, child], Pids(afterFork, listener[1]));
            Assert.Equal([parent, child], Pids(afterFork, second[3]));

            // The parent closes a socket its child keeps: the table does not change, the parent is no owner any more.
            await Send(helper, $"close {first[0]}");
            var afterSharedClose = AssertSameAsFullScan(resolver, table, "the parent closed a socket its child still holds");
            Assert.Equal([child], Pids(afterSharedClose, first[1]));
            Assert.False(resolver.LastScan.Full);

            var third = await Send(helper, $"connect {listener[0]}");
            var udp = await Send(helper, "udp6");
            table.UnionWith([third[1], third[3], udp[1]]);
            var afterThird = AssertSameAsFullScan(resolver, table, "sockets opened after the fork");
            Assert.Equal([parent], Pids(afterThird, third[1]));
            Assert.Equal([parent], Pids(afterThird, udp[1]));

            await Send(helper, $"close {third[0]}");
            table.Remove(third[1]);
            var fourth = await Send(helper, $"connect {listener[0]}"); // likely on the descriptor just freed
            table.UnionWith([fourth[1], fourth[3]]);
            AssertSameAsFullScan(resolver, table, "a socket closed and another opened");

            await Send(helper, "kill");
            var afterKill = AssertSameAsFullScan(resolver, table, "the child killed");
            Assert.Equal([parent], Pids(afterKill, listener[1]));
            Assert.False(resolver.LastScan.Full, "every call after the first was incremental");
        }
        finally
        {
            helper.StandardInput.Close();
            if (!helper.WaitForExit(10_000))
            {
                helper.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>Sends one command and returns the numbers of its "ok" answer.</summary>
    private static async Task<long[]> Send(Process helper, string command)
    {
        await helper.StandardInput.WriteLineAsync(command.AsMemory(), Ct);
        await helper.StandardInput.FlushAsync(Ct);
        var line = await helper.StandardOutput.ReadLineAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(30), Ct)
            ?? throw new InvalidOperationException($"the helper exited on '{command}'");
        var words = line.Split(' ');
        Assert.True(words[0] == "ok", $"the helper answered '{line}' to '{command}'");
        return [.. words.Skip(1).Select(w => long.Parse(w, CultureInfo.InvariantCulture))];
    }

    private static Attribution AssertSameAsFullScan(ProcessResolver resolver, HashSet<long> table, string after)
    {
        var incremental = resolver.ResolveIncrementally(table, cancellationToken: Ct);
        var actual = Describe(incremental.OwnersByInode, table);
        var expected = Describe(new ProcessResolver("/proc").Resolve(table, Ct).OwnersByInode, table);
        Assert.True(expected == actual, $"after {after}: full scan {expected}, incremental {actual}");
        Assert.NotEqual(AttributionCompleteness.Unavailable, incremental.Status.Completeness);
        return incremental;
    }

    private static int[] Pids(Attribution attribution, long inode) => [.. attribution.OwnersByInode[inode].Select(p => p.Pid)];

    private static string Describe(IReadOnlyDictionary<long, ImmutableArray<ProcessInfo>> owners, HashSet<long> table) =>
        string.Join("; ", table.Order().Select(inode =>
            $"{inode}: {(owners.TryGetValue(inode, out var list) ? string.Join(",", list.Select(p => $"{p.Name}[{p.Pid}]@{p.StartTime}")) : "-")}"));
}
