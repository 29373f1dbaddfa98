using System.Collections.Immutable;
using CsCheck;
using PortDashboard.Core.Filtering;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Sockets;
using PortDashboard.Core.Tests.Filtering;
using PortDashboard.Core.Tests.Support;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Core.Tests.Properties;

/// <summary>
/// Properties checked over generated inputs (CsCheck; a failure prints the shrunk case and the seed to replay):
/// deltas, the filter's URL form and canonical form, and incremental attribution against a full scan.
/// </summary>
public sealed class CorePropertyTests
{
    [Fact]
    public void Delta_between_a_and_b_applied_to_a_gives_b()
    {
        Generators.Sockets.SelectMany(a => Generators.Next(a).Select(b => (a, b))).Sample(t =>
        {
            var (a, b) = t;
            var before = Generators.Snapshot(Generators.T0, a);
            var after = Generators.Snapshot(Generators.T0.AddSeconds(1), b);
            var delta = Delta.Between(before, after);

            var table = a.ToDictionary(s => s.Key);
            foreach (var removed in delta.Removed)
            {
                Assert.True(table.Remove(removed.Key), $"removed {removed} was not in a");
            }

            foreach (var added in delta.Added)
            {
                Assert.True(table.TryAdd(added.Key, added), $"added {added} was in a already");
            }

            foreach (var change in delta.Changed)
            {
                Assert.True(table.TryGetValue(change.After.Key, out var was) && ReferenceEquals(was, change.Before), $"changed {change.Before} is not a's");
                Assert.True(change.Before.DiffersFrom(change.After), $"a change that changes nothing: {change.After}");
                table[change.After.Key] = change.After;
            }

            Assert.True(b.Select(s => s.Key).ToHashSet().SetEquals(table.Keys), $"keys after the delta: {string.Join(", ", table.Values)}; b: {string.Join(", ", b.AsEnumerable())}");
            Assert.All(b, s => Assert.False(table[s.Key].DiffersFrom(s), $"{s} differs after the delta: {table[s.Key]}"));
            Assert.Equal(Generators.T0, delta.PreviousTakenAt);
            Assert.Equal(after.TakenAt, delta.TakenAt);
        }, iter: 2000);
    }

    private static readonly string[][] Values =
    [
        ["range", "wellknown", "registered", "ephemeral", "os-ephemeral", "privileged"],
        ["proto", "tcp", "udp"],
        ["state", "established", "listen", "time-wait", "close-wait", "syn-sent", "unconnected", "close"],
        ["process", "nginx", "sshd", "42", "7", "my app", "postgres", "a,b", "café"],
        ["port", "80", "22", "443", "8000-8999", "0-1023", "5432", "40000-65535"],
        ["address", "127.0.0.1", "10.0.0.0/8", "0.0.0.0/0", "::1", "192.168.1.0/24", "127.0.0.0/8", "fe80::/10", "::/0"],
        ["netns", "host", "HOST", "pd-web", "net:[4026532281]", "4026532281", "a,b"],
        ["container", "docker:3f2a9c1b7d4e", "3F2A9C1B7D4E", "nginx.service", "k8s:aabbccddeeff"],
    ];

    private static readonly string[] Texts = ["nginx", "127.0.0.1", "tcp est", "5432", "ann", "LISTEN", "50%", "a&b=c"];

    /// <summary>
    /// A query string as someone may write it: keys in any order, values repeated and unsorted, some kinds given
    /// twice (values add up), text and side sometimes.
    /// </summary>
    private static readonly Gen<string> Query =
        Gen.Select(
                Gen.Select(Gen.Int[0, Values.Length - 1], Gen.Int[1, 8].Array[1, 4]).Array[0, 7],
                Gen.Int[-1, Texts.Length - 1],
                Gen.Int[0, 2],
                Gen.Int)
            .Select(t =>
            {
                var (criteria, text, side, seed) = t;
                var parts = criteria
                    .Select(c => $"{Values[c.Item1][0]}={string.Join(',', c.Item2.Select(i => Uri.EscapeDataString(Values[c.Item1][1 + ((i - 1) % (Values[c.Item1].Length - 1))])))}")
                    .ToList();
                if (text >= 0)
                {
                    parts.Add("q=" + Uri.EscapeDataString(Texts[text]));
                }

                if (side > 0)
                {
                    parts.Add(side == 1 ? "side=local" : "side=remote");
                }

                var random = new Random(seed);
                return string.Join('&', parts.OrderBy(_ => random.Next()));
            });

    [Fact]
    public void A_filter_round_trips_through_its_URL_form()
    {
        Query.Sample(query =>
        {
            var filter = Filter.Parse(query);
            var url = filter.ToQueryString();
            var again = Filter.Parse(url);
            Assert.Equal(url, again.ToQueryString());
            Assert.Equal(filter, again);
            Assert.Equal(filter.GetHashCode(), again.GetHashCode());
            FilterQueryTests.AssertSameFields(filter, again);
        }, iter: 2000);
    }

    /// <summary>A machine whose OS classes differ from Linux's defaults, so os-ephemeral/privileged are judged by it.</summary>
    private static readonly OsPortPolicy NarrowPolicy = new(40000, 45000, 80);

    [Fact]
    public void Matching_a_filter_equals_matching_its_canonical_form()
    {
        Gen.Select(Query, Generators.Sockets).Sample(t =>
        {
            var (query, sockets) = t;
            var filter = Filter.Parse(query);
            var canonical = Filter.Parse(filter.ToQueryString());
            foreach (var socket in sockets)
            {
                Assert.True(filter.Matches(socket) == canonical.Matches(socket), $"'{query}' and its canonical '{canonical}' disagree on {socket}");
                Assert.True(filter.Matches(socket, policy: NarrowPolicy) == canonical.Matches(socket, policy: NarrowPolicy), $"'{query}' and its canonical '{canonical}' disagree on {socket} under {NarrowPolicy}");
            }
        }, iter: 2000);
    }

    /// <summary>One change to a proc tree, as the kernel makes it.</summary>
    private enum TreeChange
    {
        /// <summary>A process starts with no socket.</summary>
        NewProcess,

        /// <summary>A process forks: the child holds the parent's sockets at the same descriptors.</summary>
        Fork,

        /// <summary>A process opens a new socket at its lowest free descriptor; the dump lists it.</summary>
        OpenSocket,

        /// <summary>A process closes a descriptor; the socket leaves the dump once nobody holds it.</summary>
        CloseSocket,

        /// <summary>A process exits; its sockets go as with <see cref="CloseSocket"/>.</summary>
        ProcessExits,

        /// <summary>The dump lists a socket no readable process holds (pid 1's, another namespace's).</summary>
        Unheld,
    }

    private static readonly Gen<(TreeChange Change, int A, int B)[]> TreeChanges =
        Gen.Select(Gen.Enum<TreeChange>(), Gen.Int[0, 5], Gen.Int[0, 5]).Array[1, 16];

    [Fact]
    public void Incremental_attribution_equals_a_full_scan_after_any_run_of_changes()
    {
        TreeChanges.Sample(changes =>
        {
            using var tree = new FakeProcTree();
            var names = new UserNames(tree.PathOf("no-passwd"));
            var resolver = new ProcessResolver(tree.Root, names);
            var processes = new Dictionary<int, SortedDictionary<int, long>>(); // pid -> fd -> inode
            var table = new HashSet<long>();
            var nextStart = 1UL;
            var nextInode = 5000L;
            var nextPid = 100;
            var step = 0;
            string Dir(int pid) => pid.ToString(System.Globalization.CultureInfo.InvariantCulture);
            int? Pick(int a) => processes.Count == 0 ? null : processes.Keys.Order().ElementAt(a % processes.Count);
            void Forget(IEnumerable<long> inodes)
            {
                foreach (var inode in inodes.Where(i => !processes.Values.Any(fds => fds.ContainsValue(i))))
                {
                    table.Remove(inode);
                }
            }

            foreach (var (change, a, b) in changes)
            {
                switch (change)
                {
                    case TreeChange.NewProcess:
                        tree.AddProcess(nextPid, $"p{nextPid}", startTime: nextStart++);
                        processes[nextPid++] = [];
                        break;
                    case TreeChange.Fork when Pick(a) is { } parent:
                        tree.AddProcess(nextPid, $"p{parent}", startTime: nextStart++);
                        foreach (var (fd, inode) in processes[parent])
                        {
                            tree.AddSocket(nextPid, fd, inode);
                        }

                        processes[nextPid++] = new SortedDictionary<int, long>(processes[parent]);
                        break;
                    case TreeChange.OpenSocket when Pick(a) is { } pid:
                        var free = Enumerable.Range(3, 64).First(fd => !processes[pid].ContainsKey(fd));
                        tree.AddSocket(pid, free, nextInode);
                        processes[pid][free] = nextInode;
                        table.Add(nextInode++);
                        break;
                    // Also when others still hold it (the parent of a forked worker): the table does not change, but
                    // the closing holder is no owner any more.
                    case TreeChange.CloseSocket when Pick(a) is { } pid && processes[pid].Count > 0
                        && processes[pid].ElementAt(b % processes[pid].Count) is var (closing, closed):
                        File.Delete(tree.PathOf(Dir(pid), "fd", closing.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                        processes[pid].Remove(closing);
                        Forget([closed]);
                        break;
                    case TreeChange.ProcessExits when Pick(a) is { } pid:
                        Directory.Delete(tree.PathOf(Dir(pid)), recursive: true);
                        var held = processes[pid].Values.ToList();
                        processes.Remove(pid);
                        Forget(held);
                        break;
                    case TreeChange.Unheld:
                        table.Add(nextInode++);
                        break;
                    default:
                        break; // no process to do it
                }

                step++;
                var incremental = resolver.ResolveIncrementally(table, cancellationToken: TestContext.Current.CancellationToken);
                var full = new ProcessResolver(tree.Root, names).Resolve(table, TestContext.Current.CancellationToken);
                Assert.True(
                    Describe(full.OwnersByInode) == Describe(incremental.OwnersByInode),
                    $"after step {step} ({change} {a} {b}): full scan {Describe(full.OwnersByInode)}, incremental {Describe(incremental.OwnersByInode)}");
                Assert.True(full.Status == incremental.Status, $"after step {step} ({change}): full scan {full.Status}, incremental {incremental.Status}");
            }
        }, iter: 60);
    }

    private static string Describe(IReadOnlyDictionary<long, ImmutableArray<ProcessInfo>> owners) =>
        string.Join("; ", owners.Where(o => !o.Value.IsEmpty).OrderBy(o => o.Key).Select(o => $"{o.Key}: {string.Join(",", o.Value.Select(p => $"{p.Name}[{p.Pid}]@{p.StartTime}"))}"));
}
