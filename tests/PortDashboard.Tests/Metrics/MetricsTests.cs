using System.Net;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Sockets;
using Socket = PortDashboard.Core.Sockets.Socket;
using PortDashboard.Hubs;
using PortDashboard.Tests.Resilience;
using PortDashboard.Tests.Support;
using static PortDashboard.Tests.Support.TestSockets;

namespace PortDashboard.Tests.Metrics;

/// <summary>
/// /metrics of the real app (a fake socket table on a fake clock, so every figure is known): the app's instruments in
/// Prometheus text format, named by Prometheus conventions, beside ASP.NET Core's and the runtime's.
/// </summary>
[Collection(nameof(MetricsCollection))]
public sealed class MetricsTests : IAsyncLifetime
{
    private readonly FakeSocketTableReader _reader = new();
    private FakeClockApp _app = null!;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() =>
        _app = await FakeClockApp.StartAsync(services: s => s.AddSingleton<ISocketTableReader>(_reader));

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private async Task<PrometheusText> Scrape()
    {
        using var response = await _app.Client.GetAsync(new Uri("/metrics", UriKind.Relative), Cancellation);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        return PrometheusText.Parse(await response.Content.ReadAsStringAsync(Cancellation));
    }

    [Fact]
    public async Task Sockets_are_counted_by_range_state_and_protocol_with_every_series_present()
    {
        _reader.Sockets = Table(
            Listener(8080, inode: 1),
            Listener(22, inode: 2),
            Listener(53, inode: 3, TransportProtocol.Udp),
            Connection(50_000, 8080, inode: 4),
            Connection(50_001, 8080, inode: 5),
            Connection(8080, 50_000, inode: 6));
        await _app.Tick();

        var metrics = await Scrape();

        Assert.Equal("gauge", metrics.Types["portdashboard_sockets"]);
        Assert.Equal(1, metrics.Value("portdashboard_sockets", "range=registered", "state=listen", "protocol=tcp"));
        Assert.Equal(1, metrics.Value("portdashboard_sockets", "range=wellknown", "state=listen", "protocol=tcp"));
        Assert.Equal(1, metrics.Value("portdashboard_sockets", "range=wellknown", "state=unconnected", "protocol=udp"));
        Assert.Equal(2, metrics.Value("portdashboard_sockets", "range=ephemeral", "state=established", "protocol=tcp"));
        Assert.Equal(1, metrics.Value("portdashboard_sockets", "range=registered", "state=established", "protocol=tcp"));
        Assert.Equal(0, metrics.Value("portdashboard_sockets", "range=ephemeral", "state=time-wait", "protocol=tcp"));
        Assert.Equal(6, metrics.Find("portdashboard_sockets").Sum(s => s.Value));
        Assert.Equal(3 * (12 + 2), metrics.Find("portdashboard_sockets").Count()); // 3 ranges x (12 TCP states + 2 UDP)

        var policy = _app.Feed.Current.PortPolicy;
        Assert.Equal(policy.EphemeralRangeSize, metrics.Value("portdashboard_ephemeral_port_range_size"));
        var osEphemeral = (policy.IsOsEphemeral(50_000) ? 1 : 0) + (policy.IsOsEphemeral(50_001) ? 1 : 0) + (policy.IsOsEphemeral(8080) ? 1 : 0);
        Assert.Equal(osEphemeral, metrics.Value("portdashboard_ephemeral_ports_in_use", "protocol=tcp"));
        Assert.Equal(0, metrics.Value("portdashboard_ephemeral_ports_in_use", "protocol=udp"));
        Assert.Equal(0, metrics.Value("portdashboard_attribution_partial"));
    }

    [Fact]
    public async Task Process_throughput_is_summed_per_process_name_for_the_busiest_only()
    {
        // 25 processes, one connection each; "web" holds two more. Process i moves (i + 1) kB/s in and half that out.
        var processes = Enumerable.Range(0, 25).Select(i => new ProcessInfo(1000 + i, 1, $"p{i:00}", 0, "root")).ToList();
        var web = new ProcessInfo(2000, 1, "web", 0, "root");
        Socket[] Poll(ulong factor) =>
        [
            .. processes.Select((p, i) => Connection(40_000 + i, 80, inode: 100 + i, owners: p).WithCounters((ulong)(i + 1) * 1000 * factor, (ulong)(i + 1) * 500 * factor)),
            Connection(41_000, 80, inode: 200, owners: web).WithCounters(100_000 * factor, 0),
            Connection(41_001, 80, inode: 201, owners: web).WithCounters(100_000 * factor, 0),
        ];
        _reader.Sockets = Table(Poll(1));
        await _app.Tick();
        Assert.Empty((await Scrape()).Find("portdashboard_process_tcp_throughput_bytes_per_second")); // every connection is new: rates unknown, no series

        _reader.Sockets = Table(Poll(2));
        await _app.Tick();
        var metrics = await Scrape();
        var seconds = _app.Feed.Current.Traffic.Interval.TotalSeconds;

        Assert.Equal("gauge", metrics.Types["portdashboard_process_tcp_throughput_bytes_per_second"]);
        Assert.Equal(200_000 / seconds, metrics.Value("portdashboard_process_tcp_throughput_bytes_per_second", "process=web", "direction=received"));
        Assert.Equal(25_000 / seconds, metrics.Value("portdashboard_process_tcp_throughput_bytes_per_second", "process=p24", "direction=received"));
        Assert.Equal(12_500 / seconds, metrics.Value("portdashboard_process_tcp_throughput_bytes_per_second", "process=p24", "direction=sent"));
        var names = metrics.Find("portdashboard_process_tcp_throughput_bytes_per_second").Select(s => s.Labels["process"]).Distinct().ToList();
        Assert.Equal(PortDashboard.Metrics.PortDashboardMetrics.TopProcesses, names.Count);
        Assert.DoesNotContain("p00", names); // the quietest fall off: bounded cardinality
        Assert.DoesNotContain(metrics.Find("portdashboard_process_tcp_throughput_bytes_per_second"), s => s.Labels.ContainsKey("port"));
    }

    [Fact]
    public async Task Opened_and_closed_sockets_and_snapshot_durations_follow_every_snapshot()
    {
        var before = await Scrape();
        Assert.Empty(before.Find("portdashboard_sockets_opened_total")); // the first table is not "opened"
        var snapshotsBefore = before.Value("portdashboard_snapshot_duration_seconds_count");

        _reader.Sockets = Table(Listener(8080, inode: 1), Connection(50_000, 8080, inode: 2), Listener(53, inode: 3, TransportProtocol.Udp));
        await _app.Tick();
        _reader.Sockets = Table(Listener(8080, inode: 1), Connection(50_001, 8080, inode: 4), Connection(50_002, 8080, inode: 5));
        await _app.Tick();

        var metrics = await Scrape();
        Assert.Equal("counter", metrics.Types["portdashboard_sockets_opened_total"]);
        Assert.Equal(2 + 2, metrics.Value("portdashboard_sockets_opened_total", "protocol=tcp"));
        Assert.Equal(1, metrics.Value("portdashboard_sockets_opened_total", "protocol=udp"));
        Assert.Equal(1, metrics.Value("portdashboard_sockets_closed_total", "protocol=tcp"));
        Assert.Equal(1, metrics.Value("portdashboard_sockets_closed_total", "protocol=udp"));
        Assert.Equal("histogram", metrics.Types["portdashboard_snapshot_duration_seconds"]);
        Assert.Equal(snapshotsBefore + 2, metrics.Value("portdashboard_snapshot_duration_seconds_count"));
        Assert.Equal(snapshotsBefore + 2, metrics.Value("portdashboard_snapshot_duration_seconds_bucket", "le=+Inf"));
        Assert.Contains(metrics.Find("portdashboard_snapshot_duration_seconds_bucket"), b => b.Labels["le"] == "0.001");
    }

    [Fact]
    public async Task Failed_reads_are_counted_and_the_served_snapshot_s_age_grows_until_a_read_works()
    {
        await _app.Tick();
        Assert.Equal(0, (await Scrape()).Value("portdashboard_snapshot_age_seconds"));

        _reader.FailWhen = _ => true;
        await _app.Tick(); // fails; the next attempt waits one interval
        await _app.Tick(); // fails; the next waits two

        var failing = await Scrape();
        Assert.Equal(2, failing.Value("portdashboard_snapshot_read_failures_total"));
        Assert.Equal(2, failing.Value("portdashboard_snapshot_age_seconds"));

        _reader.FailWhen = _ => false;
        await _app.TickUntil(() => !_app.Feed.Status.IsFailing, "a read works again");
        var recovered = await Scrape();
        Assert.Equal(0, recovered.Value("portdashboard_snapshot_age_seconds"));
        Assert.Equal(2, recovered.Value("portdashboard_snapshot_read_failures_total"));
    }

    [Fact]
    public async Task Subscribers_and_hub_connections_are_gauged_and_resyncs_counted()
    {
        // The app's own in-process subscribers (the insight service) are there from start-up: count on top of them.
        var inProcess = _app.Feed.SubscriberCount;
        await using var hub = new HubConnectionBuilder().WithUrl(new Uri(_app.BaseAddress, SocketsHub.Path)).Build();
        await hub.StartAsync(Cancellation);
        await hub.InvokeAsync<string>("Subscribe", "proto=tcp", Cancellation);
        await Eventually.WaitUntil(() => _app.Feed.SubscriberCount == inProcess + 1, "the hub subscription to reach the feed");

        var metrics = await Scrape();

        Assert.Equal(inProcess + 1, metrics.Value("portdashboard_subscribers"));
        Assert.Equal(1, metrics.Value("portdashboard_hub_connections"));
        Assert.Equal("counter", metrics.Types["portdashboard_subscribers_resynced_total"]);
        Assert.Equal(_app.Feed.ResyncCount, metrics.Value("portdashboard_subscribers_resynced_total"));

        // A client that keeps up leaves nothing queued once its Snapshot has gone out (no poll has happened since it
        // subscribed; the Snapshot itself may still be on its way at the first scrape).
        Assert.Equal("gauge", metrics.Types["portdashboard_subscribers_backlog"]);
        Assert.Equal("gauge", metrics.Types["portdashboard_hub_sends_waiting"]);
        await Eventually.WaitUntil(async () =>
        {
            var now = await Scrape();
            return now.Value("portdashboard_subscribers_backlog") == 0
                && now.Value("portdashboard_subscribers_backlog_longest") == 0
                && now.Value("portdashboard_hub_sends_waiting") == 0;
        }, "nothing queued for a client that keeps up");
    }

    [Fact]
    public async Task Asp_net_core_s_and_the_runtime_s_own_metrics_are_exported_too()
    {
        using (await _app.Client.GetAsync(new Uri("/api/snapshot", UriKind.Relative), Cancellation))
        {
        }

        var metrics = await Scrape();

        Assert.Contains(metrics.Find("http_server_request_duration_seconds_count", "http_route=/api/snapshot"), s => s.Value >= 1);
        Assert.NotEmpty(metrics.Find("kestrel_active_connections"));
        Assert.NotEmpty(metrics.Find("dotnet_gc_heap_total_allocated_bytes_total"));
        Assert.All(metrics.Samples.Where(s => s.Name.StartsWith("portdashboard_", StringComparison.Ordinal)), s => Assert.Matches("^[a-z_]+$", s.Name));
    }
}
