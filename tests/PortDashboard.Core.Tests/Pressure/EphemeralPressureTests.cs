using System.Net;
using System.Net.Sockets;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Pressure;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Sockets;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Core.Tests.Pressure;

public class EphemeralPressureTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
    private static readonly OsPortPolicy SmallRange = new(40000, 40099, 1024); // 100 ports
    private static readonly NetAddress Local = NetAddress.FromIPv4(0x7F000001);
    private static readonly Endpoint Postgres = new(NetAddress.FromIPv4(0x0A000005), 5432);
    private static readonly Endpoint Redis = new(NetAddress.FromIPv4(0x0A000006), 6379);

    private static Socket Outgoing(int localPort, Endpoint remote, SocketState state = SocketState.Established) =>
        new(TransportProtocol.Tcp, IpVersion.IPv4, new Endpoint(Local, localPort), remote, state, state == SocketState.TimeWait ? 0 : localPort, 0);

    private static Snapshot Snap(OsPortPolicy policy, IEnumerable<Socket> sockets, DateTimeOffset? at = null) =>
        new([.. sockets], at ?? T0, TimeSpan.Zero, "test", new AttributionStatus(AttributionCompleteness.Complete, 0, 0), policy, "host");

    [Fact]
    public void Ports_are_counted_per_destination_top_first_with_their_time_wait_share()
    {
        var sockets = Enumerable.Range(40000, 75).Select(p => Outgoing(p, Postgres, p < 40050 ? SocketState.TimeWait : SocketState.Established))
            .Concat(Enumerable.Range(40000, 10).Select(p => Outgoing(p, Redis)));

        var report = EphemeralPressure.Compute(Snap(SmallRange, sockets));

        Assert.Equal(100, report.RangeSize);
        Assert.Equal(75, report.TcpPortsInUse); // the Redis connections reuse source ports the Postgres ones hold
        Assert.Equal(50, report.TcpTimeWait);
        var top = report.Destinations[0];
        Assert.Equal(Postgres, top.Destination.Remote);
        Assert.Equal(75, top.PortsInUse);
        Assert.Equal(50, top.TimeWait);
        Assert.Equal(PressureLevel.Warning, top.Level); // 75 % ≥ 70 %
        Assert.Equal(PressureLevel.Normal, report.Destinations[1].Level);
        Assert.Equal(PressureLevel.Warning, report.Level);
    }

    [Fact]
    public void Listeners_server_side_sockets_and_ports_outside_the_os_range_are_not_outgoing_use()
    {
        var listener = new Socket(TransportProtocol.Tcp, IpVersion.IPv4, new Endpoint(Local, 40010), default, SocketState.Listen, 1, 0);
        var serverSide = new Socket(TransportProtocol.Tcp, IpVersion.IPv4, new Endpoint(Local, 5432), new Endpoint(Local, 40011), SocketState.Established, 2, 0);

        var report = EphemeralPressure.Compute(Snap(SmallRange, [listener, serverSide]));

        Assert.Equal(1, report.TcpPortsInUse); // the listener holds 40010 out of the range...
        Assert.Empty(report.Destinations); // ...but no destination draws from it
    }

    [Theory]
    [InlineData(0.69, PressureLevel.Normal)]
    [InlineData(0.70, PressureLevel.Warning)]
    [InlineData(0.89, PressureLevel.Warning)]
    [InlineData(0.90, PressureLevel.Critical)]
    public void Default_thresholds_are_70_and_90_percent(double utilization, PressureLevel expected) =>
        Assert.Equal(expected, PressureThresholds.Default.LevelOf(utilization));

    [Fact]
    public void A_rate_that_time_wait_can_absorb_never_exhausts()
    {
        // 10 new connections a second hold about 600 ports in TIME_WAIT: far below 28,232.
        Assert.Null(EphemeralPressure.TimeToExhaustion(inUse: 600, timeWait: 600, rangeSize: 28232, openingRatePerSecond: 10));
    }

    [Fact]
    public void A_rate_beyond_what_time_wait_frees_exhausts_when_the_free_ports_run_out()
    {
        // 1,000 a second into 28,232 ports: about 28 s of headroom from empty.
        var time = EphemeralPressure.TimeToExhaustion(inUse: 0, timeWait: 0, rangeSize: 28232, openingRatePerSecond: 1000);

        Assert.Equal(28.232, time!.Value.TotalSeconds, precision: 3);
        Assert.Equal(TimeSpan.Zero, EphemeralPressure.TimeToExhaustion(100, 0, 100, 5));
    }

    [Fact]
    public void Opening_rates_come_from_deltas_over_a_sliding_window()
    {
        var tracker = new OpeningRateTracker(TimeSpan.FromSeconds(10));
        var added = Enumerable.Range(40000, 20).Select(p => Outgoing(p, Postgres)).ToArray();
        var delta = new Delta(1, T0, T0, [.. added], [], []);

        tracker.Record(delta, SmallRange);
        var destination = OpeningRateTracker.DestinationOf(added[0], SmallRange)!.Value;

        Assert.Equal(2.0, tracker.RatesAt(T0.AddSeconds(5))[destination]);
        Assert.False(tracker.RatesAt(T0.AddSeconds(11)).ContainsKey(destination));
    }

    [Fact]
    public async Task Closing_a_thousand_connections_to_one_destination_raises_its_gauge_by_the_time_wait_sockets_left()
    {
        var ct = TestContext.Current.CancellationToken;
        using var listener = new System.Net.Sockets.Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(2048);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var snapshotter = new Snapshotter(new ProcNetReader("/proc"), new SnapshotterOptions { AttributeOwners = false });
        var destination = new Destination(TransportProtocol.Tcp, NetAddress.FromIPv4(0x7F000001), new Endpoint(NetAddress.FromIPv4(0x7F000001), port));
        int Gauge() => EphemeralPressure.Compute(snapshotter.Take(ct), top: int.MaxValue).Destinations
            .FirstOrDefault(d => d.Destination == destination)?.TimeWait ?? 0;

        var before = Gauge();
        for (var i = 0; i < 1000; i++)
        {
            using var client = new System.Net.Sockets.Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(listener.LocalEndPoint!, ct);
            using var accepted = await listener.AcceptAsync(ct);
            client.Close(); // the client closes first: its port stays in TIME_WAIT toward the destination
        }

        // Loopback lets the kernel reuse a TIME_WAIT port for a new connection (net.ipv4.tcp_tw_reuse = 2), so a
        // few of the thousand may not be left behind: the gauge must equal what ss counts, nearly all of them.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        var after = Gauge();
        var counted = SsTimeWaitCount(port);
        while ((after != counted || after < 900) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, ct);
            after = Gauge();
            counted = SsTimeWaitCount(port);
        }

        Assert.Equal(0, before);
        Assert.Equal(counted, after);
        Assert.InRange(after, 900, 1000);
    }

    private static int SsTimeWaitCount(int port)
    {
        using var ss = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("ss", $"-tanH state time-wait dst 127.0.0.1:{port}")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("ss (iproute2) is needed: apt-get install iproute2");
        var lines = ss.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        ss.WaitForExit();
        return lines;
    }
}
