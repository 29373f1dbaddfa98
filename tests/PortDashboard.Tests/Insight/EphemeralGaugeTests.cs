using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using PortDashboard.Core.Pressure;
using PortDashboard.Core.Sockets;
using PortDashboard.Insight;
using PortDashboard.Tests.Insight.Support;
using PortDashboard.Tests.Support;

namespace PortDashboard.Tests.Insight;

/// <summary>The per-destination gauge against the kernel, in the real app: real loopback connections, ss as the reference.</summary>
public sealed class EphemeralGaugeTests
{
    [Fact]
    public async Task Closing_a_thousand_connections_raises_the_destinations_gauge_by_the_time_wait_sockets_left()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var app = new InsightApp(new Dictionary<string, string?> { ["PortDashboard:Pressure:TopDestinations"] = "1000" });
        using var listener = new InsightApp.Listener();
        var loopback = NetAddress.FromIPv4(0x7F000001);
        var destination = new Destination(TransportProtocol.Tcp, loopback, new Endpoint(loopback, listener.Port));
        DestinationPressure? Gauge() => app.State.Pressure.Report.Destinations.FirstOrDefault(d => d.Destination == destination);
        await app.WaitForBatchesAsync(2, "two polls with the listener open");
        Assert.Null(Gauge());

        for (var i = 0; i < 1000; i++)
        {
            using var client = new System.Net.Sockets.Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, listener.Port), ct);
            using var accepted = await listener.Socket.AcceptAsync(ct);
            client.Close(); // the client closes first: its port stays in TIME_WAIT toward the destination
        }

        // Loopback may reuse a TIME_WAIT port for a later connection (net.ipv4.tcp_tw_reuse), so a few of the thousand
        // may not be left: the gauge must match what ss counts at the same moment, nearly all of them.
        var counted = 0;
        await Eventually.WaitUntil(async () =>
        {
            await app.WaitForBatchesAsync(1, "a poll");
            counted = SsTimeWaitCount(listener.Port);
            return Gauge() is { } gauge && gauge.TimeWait == counted && gauge.PortsInUse == counted && counted >= 900;
        }, "the gauge matches ss's TIME_WAIT count", TimeSpan.FromSeconds(30));

        var pressure = Gauge()!;
        Assert.InRange(pressure.PortsInUse, 900, 1000);
        Assert.Equal(pressure.PortsInUse / (double)pressure.RangeSize, pressure.Utilization);
        Assert.True(pressure.OpeningRatePerSecond >= pressure.PortsInUse / 60.0 - 1e-9, $"opening rate {pressure.OpeningRatePerSecond}/s");

        // The same figure on /metrics' instruments.
        using var collector = new MetricCollector<double>(app.Get<IMeterFactory>(), InsightMetrics.MeterName, "portdashboard.ephemeral.destination.ports.in_use");
        collector.RecordObservableInstruments();
        var measurement = collector.GetMeasurementSnapshot().Last(m => Equals(m.Tags["remote_port"], listener.Port) && Equals(m.Tags["remote_address"], "127.0.0.1"));
        Assert.Equal(app.State.Pressure.Report.Destinations.First(d => d.Destination == destination).PortsInUse, measurement.Value);
        Assert.Equal("tcp", measurement.Tags["protocol"]);
    }

    /// <summary>How many TIME_WAIT sockets ss sees toward the port.</summary>
    private static int SsTimeWaitCount(int port)
    {
        using var ss = Process.Start(new ProcessStartInfo("ss", $"-tanH state time-wait dst 127.0.0.1:{port}")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("ss (iproute2) is needed: apt-get install iproute2");
        var lines = ss.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        ss.WaitForExit();
        return lines;
    }
}
