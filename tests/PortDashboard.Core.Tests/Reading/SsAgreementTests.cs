using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Sockets;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Core.Tests.Reading;

/// <summary>
/// <c>ss</c> (iproute2, netlink sock_diag, its own /proc/*/fd scan for owners) is the reference for reading the kernel.
/// A snapshot, <c>ss</c>, and another snapshot are taken back to back; every socket the two snapshots agree on
/// (same identity, state and owners) must be in <c>ss</c>'s table with the same protocol, endpoints, state and owner
/// pids. Only sockets that appeared or vanished between the reads may differ.
/// </summary>
public sealed partial class SsAgreementTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Readers => ["default", "proc-net"];

    [Theory]
    [MemberData(nameof(Readers))]
    public async Task Every_socket_present_in_both_reads_matches_ss_on_protocol_endpoints_state_and_owner_pids(string reader)
    {
        var snapshotter = reader == "proc-net"
            ? new Snapshotter(new ProcNetReader("/proc"), new SnapshotterOptions())
            : Snapshotter.CreateDefault(new SnapshotterOptions());
        using var traffic = await Traffic.OpenAsync(snapshotter, Ct);

        var before = snapshotter.Take(Ct);
        var ss = SsTable.Read();
        var after = snapshotter.Take(Ct);

        // ss's dump is no more atomic than ours: under churn it may list a socket twice. Such a socket is ambiguous
        // (which line is current?) and left out of the comparison, like one that changed between our two reads.
        var ssByIdentity = new Dictionary<SocketIdentity, SsRow>();
        var ambiguous = new HashSet<SocketIdentity>();
        foreach (var row in ss)
        {
            if (!ssByIdentity.TryAdd(row.Identity, row))
            {
                ambiguous.Add(row.Identity);
            }
        }

        var afterByIdentity = after.Sockets.GroupBy(Identity).ToDictionary(g => g.Key, g => g.First());
        var compared = new List<Socket>();
        var mismatches = new List<string>();
        foreach (var socket in before.Sockets)
        {
            if (ambiguous.Contains(Identity(socket)) || !afterByIdentity.TryGetValue(Identity(socket), out var later)
                || later.State != socket.State || !OwnerPids(later).SetEquals(OwnerPids(socket)))
            {
                continue; // changed between the two snapshots: ss may have seen either side
            }

            if (!ssByIdentity.TryGetValue(Identity(socket), out var row))
            {
                // ss's netlink dump is not atomic either: under other processes' churn its resumable walk of a hash
                // bucket can skip a socket that held still. Presence is required of this test's own sockets (below);
                // every socket both list must agree.
                continue;
            }

            compared.Add(socket);
            mismatches.AddRange(Disagreements(socket, row).Select(d => $"{d}\n    ours: {socket}\n    ss:   {row.Line}"));
        }

        Assert.True(mismatches.Count == 0, $"{mismatches.Count} disagreement(s) with ss ({before.Reader} reader):\n{string.Join("\n", mismatches)}");
        foreach (var (description, matches) in traffic.Expected)
        {
            Assert.True(compared.Exists(matches), $"this test's {description} was not compared with ss; compared:\n{string.Join("\n", compared)}");
        }
    }

    [Fact]
    public void The_ss_parser_reads_every_address_form_ss_prints()
    {
        string[] lines =
        [
            "udp UNCONN     0      0               127.0.0.1:45290            0.0.0.0:*     users:((\"python3\",pid=7373,fd=4)) ino:49692 sk:1003 cgroup:/ <->",
            "udp ESTAB      0      0                   [::1]:56334              [::1]:53    users:((\"python3\",pid=7373,fd=5)) ino:49693 sk:1004 cgroup:/ <->",
            "tcp LISTEN     0      128          127.0.0.1%lo:53493            0.0.0.0:*     users:((\"tmux: server\",pid=7,fd=8),(\"a,b) c\",pid=9,fd=3)) ino:49717 sk:1005 cgroup:/ <->",
            "tcp TIME-WAIT  0      0               192.0.2.2:58076       203.0.113.80:80    timer:(timewait,38sec,0) ino:0 sk:1001",
            "tcp LISTEN     0      128                     *:42185                  *:*     users:((\"python3\",pid=7373,fd=3)) ino:49691 sk:100a cgroup:/ v6only:0 <->",
            "tcp CLOSE-WAIT 1      0      [::ffff:127.0.0.1]:42185 [::ffff:127.0.0.1]:36996 users:((\"python3\",pid=7373,fd=9)) ino:49697 sk:100b cgroup:/ -->",
            "tcp LISTEN     0      128                  [::]:22                   [::]:*     ino:1234 sk:2 cgroup:/ v6only:1 <->",
            "tcp LISTEN     0      128      [fe80::1]%eth0:8080                   [::]:*     ino:1235 sk:3 <->",
        ];

        var rows = lines.Select(SsTable.Parse).ToList();

        Assert.Equal((TransportProtocol.Udp, SocketState.Unconnected, "127.0.0.1:45290", "*:*", 49692L), Summary(rows[0]));
        Assert.Equal((TransportProtocol.Udp, SocketState.Established, "[::1]:56334", "[::1]:53", 49693L), Summary(rows[1]));
        Assert.Equal((TransportProtocol.Tcp, SocketState.Listen, "127.0.0.1:53493", "*:*", 49717L), Summary(rows[2]));
        Assert.Equal([7, 9], rows[2].Pids.Order());
        Assert.Equal((TransportProtocol.Tcp, SocketState.TimeWait, "192.0.2.2:58076", "203.0.113.80:80", 0L), Summary(rows[3]));
        Assert.Empty(rows[3].Pids);
        Assert.Equal(("*:42185", (IpVersion?)null), (rows[4].Local.ToString(), rows[4].Family));
        Assert.Equal(("[::ffff:127.0.0.1]:42185", IpVersion.IPv6), (rows[5].Local.ToString(), rows[5].Family));
        Assert.Equal(SocketState.CloseWait, rows[5].State);
        Assert.Equal(("*:22", IpVersion.IPv6), (rows[6].Local.ToString(), rows[6].Family));
        Assert.Equal("[fe80::1]:8080", rows[7].Local.ToString());
    }

    private static (TransportProtocol, SocketState, string, string, long) Summary(SsRow row) =>
        (row.Protocol, row.State, row.Local.ToString(), row.Remote.ToString(), row.Inode);

    /// <summary>What names one socket in both tables: its inode, or for a socket with no file (TIME_WAIT) its four-tuple.</summary>
    private readonly record struct SocketIdentity(TransportProtocol Protocol, long Inode, Endpoint Local, Endpoint Remote)
    {
        public static SocketIdentity Of(TransportProtocol protocol, long inode, Endpoint local, Endpoint remote) =>
            inode != 0 ? new(protocol, inode, default, default) : new(protocol, 0, Canonical(local), Canonical(remote));

        private static Endpoint Canonical(Endpoint endpoint) =>
            endpoint.Address.IsWildcard ? new Endpoint(NetAddress.AnyV4, endpoint.Port) : endpoint;
    }

    private static SocketIdentity Identity(Socket socket) => SocketIdentity.Of(socket.Protocol, socket.Inode, socket.Local, socket.Remote);

    private static HashSet<int> OwnerPids(Socket socket) => [.. socket.Owners.Select(o => o.Pid)];

    private static IEnumerable<string> Disagreements(Socket socket, SsRow row)
    {
        if (socket.Protocol != row.Protocol)
        {
            yield return $"protocol: {socket.Protocol} vs {row.Protocol}";
        }

        if (!Agree(socket.Local, row.Local) || (row.Family is { } family && family != socket.Family))
        {
            yield return $"local endpoint: {socket.Local} ({socket.Family}) vs {row.Local} ({row.Family})";
        }

        if (!Agree(socket.Remote, row.Remote))
        {
            yield return $"remote endpoint: {socket.Remote} vs {row.Remote}";
        }

        // The kernel reports a pending connection as SYN_RECV to ss and in /proc/net/tcp; netlink may say NEW_SYN_RECV.
        var state = socket.State == SocketState.NewSynRecv ? SocketState.SynRecv : socket.State;
        if (state != row.State)
        {
            yield return $"state: {socket.State.ToDisplayName()} vs {row.StateWord}";
        }

        if (!OwnerPids(socket).SetEquals(row.Pids))
        {
            yield return $"owner pids: [{string.Join(",", OwnerPids(socket).Order())}] vs [{string.Join(",", row.Pids.Order())}]";
        }
    }

    /// <summary>Equal endpoints; a wildcard address is one whatever its family (ss prints <c>*</c>, <c>0.0.0.0</c> or <c>[::]</c>).</summary>
    private static bool Agree(Endpoint ours, Endpoint theirs) =>
        ours.Port == theirs.Port && (ours.Address.IsWildcard ? theirs.Address.IsWildcard : ours.Address == theirs.Address);

    /// <summary>One line of <c>ss -tunaHpne</c>.</summary>
    private sealed record SsRow(
        TransportProtocol Protocol,
        string StateWord,
        SocketState State,
        Endpoint Local,
        IpVersion? Family,
        Endpoint Remote,
        long Inode,
        IReadOnlySet<int> Pids,
        string Line)
    {
        public SocketIdentity Identity => SocketIdentity.Of(Protocol, Inode, Local, Remote);
    }

    /// <summary>Runs and parses <c>ss</c>.</summary>
    private static partial class SsTable
    {
        /// <summary>
        /// TCP and UDP (-t -u), all states (-a), numeric ports (-n: otherwise ss prints service names), no header (-H),
        /// owners (-p, complete as root), and the inode (-e) that identifies a socket in both tables.
        /// </summary>
        private static readonly string[] Arguments = ["-t", "-u", "-n", "-a", "-H", "-p", "-e"];

        public static List<SsRow> Read()
        {
            var start = new ProcessStartInfo("ss", Arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
            Process? process = null;
            try
            {
                process = Process.Start(start);
            }
            catch (Win32Exception e)
            {
                Assert.Fail($"cannot run `ss` ({e.Message}): this test compares snapshots with ss from iproute2, which must be on the PATH (Debian: apt-get install iproute2)");
            }

            Assert.NotNull(process);
            using (process)
            {
                var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
                var output = process.StandardOutput.ReadToEnd();
                if (!process.WaitForExit(Deadline))
                {
                    process.Kill();
                    Assert.Fail($"`ss {string.Join(" ", Arguments)}` did not finish within {Deadline.TotalSeconds} s");
                }

                Assert.True(process.ExitCode == 0, $"`ss {string.Join(" ", Arguments)}` exited with {process.ExitCode}: {error.Result}");
                return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Parse)];
            }
        }

        public static SsRow Parse(string line)
        {
            var match = Columns().Match(line);
            Assert.True(match.Success, $"not an ss line: {line}");
            var protocol = match.Groups["netid"].Value switch
            {
                "tcp" => TransportProtocol.Tcp,
                "udp" => TransportProtocol.Udp,
                var other => throw new FormatException($"netid '{other}' in: {line}"),
            };
            var (local, family) = ParseEndpoint(match.Groups["local"].Value, line);
            var (remote, _) = ParseEndpoint(match.Groups["peer"].Value, line);
            var rest = match.Groups["rest"].Value;

            var pids = new HashSet<int>();
            var afterUsers = 0;
            foreach (Match user in User().Matches(rest))
            {
                pids.Add(int.Parse(user.Groups["pid"].Value, CultureInfo.InvariantCulture));
                afterUsers = user.Index + user.Length;
            }

            var inode = Inode().Match(rest, afterUsers);
            Assert.True(inode.Success, $"no ino: in (ss -e was asked for): {line}");
            var word = match.Groups["state"].Value;
            return new SsRow(
                protocol,
                word,
                MapState(protocol, word, line),
                local,
                family,
                remote,
                long.Parse(inode.Groups["inode"].Value, CultureInfo.InvariantCulture),
                pids,
                line);
        }

        /// <summary>
        /// <c>127.0.0.1:80</c>, <c>127.0.0.1%lo:80</c>, <c>[::1]:53</c>, <c>[::ffff:127.0.0.1]:80</c>, <c>[fe80::1]%eth0:22</c>,
        /// <c>0.0.0.0:*</c>, <c>[::]:*</c>, <c>*:80</c> (a dual-stack wildcard), <c>*:*</c>. The family is null for <c>*</c>.
        /// </summary>
        private static (Endpoint Endpoint, IpVersion? Family) ParseEndpoint(string text, string line)
        {
            var colon = text.LastIndexOf(':');
            Assert.True(colon > 0, $"no port in '{text}' of: {line}");
            var portText = text[(colon + 1)..];
            var port = portText == "*" ? 0 : int.Parse(portText, NumberStyles.None, CultureInfo.InvariantCulture);
            var host = text[..colon];
            var percent = host.IndexOf('%', StringComparison.Ordinal);
            if (percent >= 0)
            {
                host = host[..percent]; // the interface a socket is bound to: not part of its address
            }

            host = host.TrimStart('[').TrimEnd(']');
            if (host == "*")
            {
                return (new Endpoint(NetAddress.AnyV4, port), null);
            }

            var address = IPAddress.Parse(host);
            var family = address.AddressFamily == AddressFamily.InterNetworkV6 ? IpVersion.IPv6 : IpVersion.IPv4;
            return (new Endpoint(NetAddress.FromIPAddress(address), port), family);
        }

        /// <summary>ss's state words (misc/ss.c, sstate_name); UNCONN is TCP_CLOSE, which for UDP means unconnected.</summary>
        private static SocketState MapState(TransportProtocol protocol, string word, string line) => word switch
        {
            "ESTAB" => SocketState.Established,
            "SYN-SENT" => SocketState.SynSent,
            "SYN-RECV" => SocketState.SynRecv,
            "FIN-WAIT-1" => SocketState.FinWait1,
            "FIN-WAIT-2" => SocketState.FinWait2,
            "TIME-WAIT" => SocketState.TimeWait,
            "UNCONN" => protocol == TransportProtocol.Udp ? SocketState.Unconnected : SocketState.Close,
            "CLOSE-WAIT" => SocketState.CloseWait,
            "LAST-ACK" => SocketState.LastAck,
            "LISTEN" => SocketState.Listen,
            "CLOSING" => SocketState.Closing,
            _ => throw new FormatException($"state '{word}' in: {line}"),
        };

        [GeneratedRegex(@"^(?<netid>\S+)\s+(?<state>\S+)\s+\d+\s+\d+\s+(?<local>\S+)\s+(?<peer>\S+)\s*(?<rest>.*)$")]
        private static partial Regex Columns();

        // users:(("name",pid=1,fd=3),("other",pid=2,fd=4)): a name may hold spaces, commas and parentheses.
        [GeneratedRegex(@"\(""(?:[^""\\]|\\.)*"",pid=(?<pid>\d+),fd=\d+\)")]
        private static partial Regex User();

        [GeneratedRegex(@"(?:^|\s)ino:(?<inode>\d+)")]
        private static partial Regex Inode();
    }

    /// <summary>
    /// Sockets of this test's own, so the comparison covers every form: listeners on IPv4, on an IPv6 wildcard that
    /// takes IPv4 too (ss: <c>*:port</c>, peers as <c>[::ffff:a.b.c.d]</c>), on ::1, one bound to <c>lo</c>
    /// (ss: <c>%lo</c>); connections to each; UDP unconnected and connected; a TIME_WAIT.
    /// </summary>
    private sealed class Traffic : IDisposable
    {
        private readonly List<IDisposable> _resources = [];

        public List<(string Description, Predicate<Socket> Matches)> Expected { get; } = [];

        public static async Task<Traffic> OpenAsync(Snapshotter snapshotter, CancellationToken cancellationToken)
        {
            var traffic = new Traffic();
            try
            {
                await traffic.OpenAllAsync(snapshotter, cancellationToken);
                return traffic;
            }
            catch
            {
                traffic.Dispose();
                throw;
            }
        }

        private async Task OpenAllAsync(Snapshotter snapshotter, CancellationToken cancellationToken)
        {
            var v4 = Listen(IPAddress.Loopback, "IPv4 listener");
            var dualStack = Listen(IPAddress.IPv6Any, "dual-stack listener", dualMode: true);
            var v6 = Listen(IPAddress.IPv6Loopback, "::1 listener");
            var onLo = Listen(IPAddress.Loopback, "listener bound to lo", device: "lo");
            for (var i = 0; i < 3; i++)
            {
                await ConnectAsync(v4, new IPEndPoint(IPAddress.Loopback, v4.Port), $"IPv4 connection {i}", cancellationToken);
            }

            for (var i = 0; i < 2; i++)
            {
                await ConnectAsync(dualStack, new IPEndPoint(IPAddress.Loopback, dualStack.Port), $"IPv4 connection {i} to the dual-stack listener", cancellationToken);
            }

            await ConnectAsync(v6, new IPEndPoint(IPAddress.IPv6Loopback, v6.Port), "::1 connection", cancellationToken);
            await ConnectAsync(onLo, new IPEndPoint(IPAddress.Loopback, onLo.Port), "connection to the lo-bound listener", cancellationToken);

            var udp = Own(new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)));
            var udp6 = Own(new UdpClient(new IPEndPoint(IPAddress.IPv6Loopback, 0)));
            var udpConnected = Own(new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)));
            udpConnected.Connect((IPEndPoint)udp.Client.LocalEndPoint!);
            Expect("unconnected UDP socket", udp.Client, SocketState.Unconnected);
            Expect("unconnected UDP socket on ::1", udp6.Client, SocketState.Unconnected);
            Expect("connected UDP socket", udpConnected.Client, SocketState.Established);

            await TimeWaitAsync(v4, snapshotter, cancellationToken);
        }

        public void Dispose()
        {
            foreach (var resource in Enumerable.Reverse(_resources))
            {
                resource.Dispose();
            }
        }

        private T Own<T>(T resource)
            where T : IDisposable
        {
            _resources.Add(resource);
            return resource;
        }

        private IPEndPoint Listen(IPAddress address, string description, bool dualMode = false, string? device = null)
        {
            var socket = Own(new System.Net.Sockets.Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp));
            if (dualMode)
            {
                socket.DualMode = true;
            }

            if (device is not null)
            {
                socket.SetRawSocketOption(1 /* SOL_SOCKET */, 25 /* SO_BINDTODEVICE */, System.Text.Encoding.ASCII.GetBytes(device + "\0"));
            }

            socket.Bind(new IPEndPoint(address, 0));
            socket.Listen();
            Expect(description, socket, SocketState.Listen);
            return (IPEndPoint)socket.LocalEndPoint!;
        }

        private async Task ConnectAsync(IPEndPoint listener, IPEndPoint target, string description, CancellationToken cancellationToken)
        {
            var acceptor = _resources.OfType<System.Net.Sockets.Socket>().First(s => s.LocalEndPoint is IPEndPoint l && l.Equals(listener) && s.SocketType == SocketType.Stream);
            var client = Own(new System.Net.Sockets.Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp));
            await client.ConnectAsync(target, cancellationToken);
            var server = Own(await acceptor.AcceptAsync(cancellationToken));
            Expect(description + " (client end)", client, SocketState.Established);
            Expect(description + " (server end)", server, SocketState.Established);
        }

        /// <summary>A connection the client closes first, left in TIME_WAIT (awaited, with a deadline).</summary>
        private async Task TimeWaitAsync(IPEndPoint listener, Snapshotter snapshotter, CancellationToken cancellationToken)
        {
            var acceptor = _resources.OfType<System.Net.Sockets.Socket>().First(s => s.LocalEndPoint is IPEndPoint l && l.Equals(listener));
            var local = At(listener);
            IPEndPoint source;
            using (var client = new System.Net.Sockets.Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            {
                await client.ConnectAsync(listener, cancellationToken);
                using var server = await acceptor.AcceptAsync(cancellationToken);
                source = (IPEndPoint)client.LocalEndPoint!;
                client.Close();
                Assert.Equal(0, await server.ReceiveAsync(new byte[1], cancellationToken));
            }

            var watch = Stopwatch.StartNew();
            while (!snapshotter.Take(cancellationToken).Sockets.Any(s => s.State == SocketState.TimeWait && s.Local == At(source) && s.Remote == local))
            {
                Assert.True(watch.Elapsed < Deadline, $"the connection from {source} never reached TIME_WAIT");
                await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
            }

            Expected.Add(("TIME_WAIT connection", s => s.State == SocketState.TimeWait && s.Local == At(source) && s.Remote == local));
        }

        private void Expect(string description, System.Net.Sockets.Socket socket, SocketState state)
        {
            var local = At((IPEndPoint)socket.LocalEndPoint!);
            var remote = socket.RemoteEndPoint is IPEndPoint r ? At(r) : (Endpoint?)null;
            Expected.Add((description, s => s.State == state && s.Local == local && (remote is null || s.Remote == remote)));
        }

        private static Endpoint At(IPEndPoint endpoint) => new(NetAddress.FromIPAddress(endpoint.Address), endpoint.Port);
    }
}
