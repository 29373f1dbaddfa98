using System.Collections.Immutable;
using CsCheck;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Core.Tests.Properties;

/// <summary>
/// CsCheck generators for sockets and snapshots, drawn from small pools (a few addresses, ports, inodes and owners) so
/// that keys collide, endpoints are shared and filters match often: the interesting cases, not the sparse ones.
/// </summary>
internal static class Generators
{
    public static readonly DateTimeOffset T0 = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly string[] V4 = ["127.0.0.1", "0.0.0.0", "10.1.2.3", "192.168.1.5"];
    private static readonly string[] V6 = ["::1", "::", "fe80::1", "2001:db8::7"];

    public static readonly int[] Ports = [0, 22, 80, 443, 5432, 8080, 8500, 40000, 55000];

    public static readonly ProcessInfo[] Processes =
    [
        new(7, 100, "nginx", 33, "www-data"),
        new(42, 200, "sshd", 0, "root"),
        new(43, 201, "my app", 1000, "ann"),
        new(44, 300, "Postgres", 112, "postgres"),
    ];

    public static readonly SocketState[] States =
    [
        SocketState.Established, SocketState.Listen, SocketState.TimeWait, SocketState.CloseWait, SocketState.SynSent,
        SocketState.FinWait1, SocketState.Close, SocketState.Unconnected,
    ];

    public static readonly Gen<ImmutableArray<ProcessInfo>> Owners =
        Gen.Int[0, Processes.Length - 1].Array[0, 2].Select(ix => ix.Distinct().Order().Select(i => Processes[i]).ToImmutableArray());

    public static readonly Gen<Socket> Socket =
        Gen.Select(Gen.Bool, Gen.Bool, Gen.Int[0, V4.Length - 1], Gen.Int[0, Ports.Length - 1], Gen.Int[0, V4.Length - 1], Gen.Int[0, Ports.Length - 1], Gen.Int[0, States.Length - 1], Gen.Long[0, 30])
            .SelectMany(t => Owners.Select(owners => Make(t.Item1, t.Item2, t.Item3, t.Item4, t.Item5, t.Item6, t.Item7, t.Item8, owners)));

    private static Socket Make(bool udp, bool v6, int local, int localPort, int remote, int remotePort, int state, long inode, ImmutableArray<ProcessInfo> owners)
    {
        var pool = v6 ? V6 : V4;
        return new Socket(
            udp ? TransportProtocol.Udp : TransportProtocol.Tcp,
            v6 ? IpVersion.IPv6 : IpVersion.IPv4,
            new Endpoint(NetAddress.Parse(pool[local]), Ports[localPort]),
            new Endpoint(NetAddress.Parse(pool[remote]), Ports[remotePort]),
            udp ? (remotePort == 0 ? SocketState.Unconnected : SocketState.Established) : States[state],
            inode,
            owners.IsEmpty ? 0 : owners[0].Uid,
            owners: owners);
    }

    /// <summary>The socket under another state and owners, same key: what a poll sees when a connection moves on.</summary>
    public static Socket Changed(Socket socket, int state, ImmutableArray<ProcessInfo> owners) =>
        new(socket.Protocol, socket.Family, socket.Local, socket.Remote, States[state % States.Length], socket.Inode, socket.Uid, owners: owners);

    /// <summary>What the kernel never lists twice in one dump: a socket's inode (0, as for TIME_WAIT, is no socket's), else its key.</summary>
    private static object Identity(Socket socket) => socket.Inode != 0 ? socket.Inode : socket.Key;

    /// <summary>Sockets as one dump lists them: distinct keys, distinct non-zero inodes.</summary>
    public static readonly Gen<Socket[]> Sockets = Socket.Array[0, 24].Select(s => s.DistinctBy(Identity).ToArray());

    public static Snapshot Snapshot(DateTimeOffset at, IEnumerable<Socket> sockets) =>
        new([.. sockets], at, TimeSpan.Zero, "test", new AttributionStatus(AttributionCompleteness.Complete, 1, 0), OsPortPolicy.LinuxDefault, "host");

    /// <summary>
    /// The next poll after <paramref name="before"/>: per socket, the same instance (as the snapshotter reuses it),
    /// gone, or changed under the same key; new sockets; and, when <c>shuffle</c> is set, another order.
    /// </summary>
    public static Gen<Socket[]> Next(Socket[] before) =>
        Gen.Select(Gen.Int[0, 3].Array[before.Length], Gen.Int[0, 7].Array[before.Length], Owners.Array[before.Length], Sockets, Gen.Int[0, 2], Gen.Int)
            .Select((ops, states, owners, fresh, shuffle, seed) =>
            {
                var next = new List<Socket>();
                for (var i = 0; i < before.Length; i++)
                {
                    switch (ops[i])
                    {
                        case 0 or 1: next.Add(before[i]); break; // unchanged (the common case)
                        case 2: next.Add(Changed(before[i], states[i], owners[i])); break;
                        default: break; // closed
                    }
                }

                var keys = next.Select(Identity).ToHashSet();
                next.AddRange(fresh.Where(s => keys.Add(Identity(s)))); // a fresh socket may reuse a closed one's inode, with new endpoints
                if (shuffle == 0)
                {
                    var random = new Random(seed);
                    next = [.. next.OrderBy(_ => random.Next())];
                }

                return next.ToArray();
            });

    /// <summary>A run of polls: the first snapshot's sockets, then each next one made by <see cref="Next"/>.</summary>
    public static Gen<Socket[][]> Polls(int maxLength) =>
        Gen.Int[1, maxLength].SelectMany(length => Sockets.SelectMany(first => Extend([first], length)));

    private static Gen<Socket[][]> Extend(Socket[][] polls, int length) =>
        polls.Length >= length ? Gen.Const(polls) : Next(polls[^1]).SelectMany(next => Extend([.. polls, next], length));
}
