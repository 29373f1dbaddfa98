using System.Collections.Immutable;
using Microsoft.Extensions.Time.Testing;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Sockets;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Core.Tests.Sockets;

/// <summary>Bytes/s per connection and per process from the tcp_info counters of two snapshots, on a fake clock.</summary>
public sealed class TrafficRatesTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 7, 2, 0, 0, TimeSpan.Zero);
    private static readonly ProcessInfo Nginx = new(10, 1, "nginx", 0, "root");
    private static readonly ProcessInfo Curl = new(20, 2, "curl", 0, "root");

    private readonly FakeTimeProvider _time = new(Start);
    private readonly ScriptedReader _reader = new();
    private readonly Snapshotter _snapshotter;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Socket Tcp(int port, ulong received, ulong acked, long inode = 0, ProcessInfo? owner = null) => new(
        TransportProtocol.Tcp, IpVersion.IPv4, new Endpoint(NetAddress.Parse("127.0.0.1"), port), new Endpoint(NetAddress.Parse("127.0.0.1"), 9000),
        SocketState.Established, inode == 0 ? port : inode, 0, owners: owner is null ? default : [owner],
        tcp: new TcpInfo(100, 50, 10, 0, 0, acked, received, acked, 0));

    private Snapshot Poll(params Socket[] sockets)
    {
        _reader.Next = sockets;
        return _snapshotter.Take(Ct);
    }

    public TrafficRatesTests() => _snapshotter = new Snapshotter(_reader, new SnapshotterOptions { AttributeOwners = false }, _time);

    [Fact]
    public void The_first_poll_knows_no_rate_never_a_spike()
    {
        var first = Poll(Tcp(1000, received: 5_000_000, acked: 7_000_000));

        Assert.Null(first.Traffic.Of(first.Sockets[0]));
        Assert.Null(first.Traffic.ByProcess(first, 10));
        Assert.Empty(first.Traffic.TopConnections(first, 10));
    }

    [Fact]
    public void The_rate_is_the_counters_growth_over_the_time_between_polls()
    {
        Poll(Tcp(1000, received: 1000, acked: 2000));
        _time.Advance(TimeSpan.FromSeconds(2));

        var second = Poll(Tcp(1000, received: 21_000, acked: 4000));

        Assert.Equal(new Throughput(10_000, 1000), second.Traffic.Of(second.Sockets[0]));
        Assert.Equal(TimeSpan.FromSeconds(2), second.Traffic.Interval);
    }

    [Fact]
    public void A_connection_that_did_not_move_is_zero_and_costs_no_entry()
    {
        Poll(Tcp(1000, 1000, 2000));
        _time.Advance(TimeSpan.FromSeconds(1));

        var second = Poll(Tcp(1000, 1000, 2000));

        Assert.Equal(new Throughput(0, 0), second.Traffic.Of(second.Sockets[0]));
        Assert.Empty(second.Traffic.TopConnections(second, 10));
    }

    [Fact]
    public void A_new_connection_and_a_counter_that_went_backwards_are_unknown()
    {
        Poll(Tcp(1000, 50_000, 50_000));
        _time.Advance(TimeSpan.FromSeconds(1));

        var second = Poll(Tcp(1000, 10, 10), Tcp(2000, 9_000_000, 9_000_000));

        Assert.Null(second.Traffic.Of(second.Sockets[0])); // same key, counters reset: another connection
        Assert.Null(second.Traffic.Of(second.Sockets[1])); // new since the previous poll
    }

    [Fact]
    public void A_socket_without_counters_has_no_rate()
    {
        var udp = new Socket(TransportProtocol.Udp, IpVersion.IPv4, new Endpoint(NetAddress.AnyV4, 53), new Endpoint(NetAddress.AnyV4, 0), SocketState.Unconnected, 77, 0);
        Poll(udp, Tcp(1000, 1, 1));
        _time.Advance(TimeSpan.FromSeconds(1));

        var second = Poll(udp, Tcp(1000, 1, 1));

        Assert.Null(second.Traffic.Of(second.Sockets[0]));
        Assert.NotNull(second.Traffic.Of(second.Sockets[1]));
    }

    [Fact]
    public void Processes_sum_their_connections_and_the_busiest_come_first()
    {
        var previous = new Snapshot([Tcp(1, 0, 0, owner: Nginx), Tcp(2, 0, 0, owner: Nginx), Tcp(3, 0, 0, owner: Curl)], Start, TimeSpan.Zero, "test",
            AttributionStatus.Unavailable("test"), OsPortPolicy.LinuxDefault, "host");
        ImmutableArray<Socket> now = [Tcp(1, 1000, 0, owner: Nginx), Tcp(2, 1000, 500, owner: Nginx), Tcp(3, 0, 10_000, owner: Curl)];
        var current = new Snapshot(now, Start.AddSeconds(1), TimeSpan.Zero, "test", AttributionStatus.Unavailable("test"), OsPortPolicy.LinuxDefault, "host")
        {
            Traffic = TrafficRates.Between(previous, now, Start.AddSeconds(1)),
        };

        var processes = current.Traffic.ByProcess(current, 10);

        Assert.NotNull(processes);
        Assert.Equal(["curl", "nginx"], processes.Select(p => p.Name));
        Assert.Equal(new ProcessTraffic("nginx", 10, new Throughput(2000, 500), 2), processes[1]);
        Assert.Single(current.Traffic.ByProcess(current, 1)!);
        Assert.Equal([3, 2, 1], current.Traffic.TopConnections(current, 10).Select(t => t.Socket.Local.Port));
    }

    private sealed class ScriptedReader : ISocketTableReader
    {
        public Socket[] Next { get; set; } = [];

        public string Name => "scripted";

        public bool SupportsAttribution => false;

        public SocketTableRead Read(CancellationToken cancellationToken = default) => new([.. Next], new MalformedInput());
    }
}
