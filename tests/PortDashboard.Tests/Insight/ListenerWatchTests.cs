using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using PortDashboard.Core.Sockets;
using PortDashboard.Insight;
using PortDashboard.Insight.Listeners;
using PortDashboard.Tests.Insight.Support;
using PortDashboard.Tests.Support;
using static PortDashboard.Tests.Components.Support.TestSockets;

namespace PortDashboard.Tests.Insight;

/// <summary>The listener watch: real listeners in the real app, and the watch itself on built snapshots.</summary>
public sealed class ListenerWatchTests
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_new_listener_raises_exactly_one_event_and_one_inside_the_ephemeral_range_is_flagged()
    {
        await using var app = new InsightApp();
        var events = new ConcurrentQueue<ListenerEvent>();
        app.State.ListenerChanged += batch => batch.ToList().ForEach(events.Enqueue);
        using var changes = new MetricCollector<long>(app.Get<IMeterFactory>(), InsightMetrics.MeterName, "portdashboard.listeners.changes");
        await app.WaitForBatchesAsync(1, "the first poll (the listeners at start)");

        // bind(0) takes a port from the OS ephemeral range; on every interface it is exposed too.
        using var ephemeral = new InsightApp.Listener(IPAddress.Any);
        using var registered = OpenOutsideTheEphemeralRange(app.State.Pressure.Policy);
        var policy = app.State.Pressure.Policy;
        var ephemeralPort = ephemeral.Port;
        Assert.True(policy.IsOsEphemeral(ephemeral.Port), $"port {ephemeral.Port} from bind(0) is in {policy}");

        IEnumerable<ListenerEvent> About(int port) => events.Where(e => e.Listener.Port == port && e.Listener.Protocol == TransportProtocol.Tcp);
        await Eventually.WaitUntil(() => About(ephemeral.Port).Any() && About(registered.Port).Any(), "both listeners were noticed");
        await app.WaitForBatchesAsync(5, "five more polls with both listeners open");

        var flagged = Assert.Single(About(ephemeral.Port));
        Assert.Equal(ListenerChange.New, flagged.Change);
        Assert.Equal(new ListenerFlags(InEphemeralRange: true, Exposed: true), flagged.Flags);
        Assert.Contains("0.0.0.0:" + ephemeral.Port, flagged.Listener.ToString(), StringComparison.Ordinal);
        var plain = Assert.Single(About(registered.Port));
        Assert.Equal(new ListenerFlags(InEphemeralRange: false, Exposed: false), plain.Flags);

        var view = app.State.Listeners;
        Assert.Contains(view.Current, l => l.Id.Port == ephemeral.Port && l.Flags.InEphemeralRange);
        Assert.Contains(view.NewSinceStart, l => l.Id.Port == ephemeral.Port);
        Assert.Contains(app.State.Listeners.Events, e => e.Listener.Port == ephemeral.Port);
        Assert.Contains(changes.GetMeasurementSnapshot(), m => Equals(m.Tags["change"], "new"));

        ephemeral.Dispose();
        await Eventually.WaitUntil(() => About(ephemeralPort).Count() == 2, "the listener's going was noticed");
        await app.WaitForBatchesAsync(3, "three more polls");
        Assert.Equal([ListenerChange.New, ListenerChange.Gone], About(ephemeralPort).Select(e => e.Change));
    }

    [Fact]
    public async Task A_saved_baseline_is_what_new_and_gone_are_counted_from_and_it_survives_a_restart()
    {
        var path = Path.Combine(Path.GetTempPath(), $"portdashboard-history-baseline-{Guid.NewGuid():N}.db");
        var settings = new Dictionary<string, string?> { ["PortDashboard:History:Path"] = path };
        try
        {
            using var kept = new InsightApp.Listener();
            await using (var app = new InsightApp(settings))
            {
                await Eventually.WaitUntil(() => app.State.Listeners.Current.Any(l => l.Id.Port == kept.Port), "the listener is watched");
                var baseline = await app.State.SaveListenerBaselineAsync(TestContext.Current.CancellationToken);
                Assert.Contains(baseline.Listeners, l => l.Id.Port == kept.Port);

                using var added = new InsightApp.Listener();
                await Eventually.WaitUntil(() => app.State.Listeners.NewSinceBaseline.Any(l => l.Id.Port == added.Port), "the new listener is new since the baseline");
                Assert.DoesNotContain(app.State.Listeners.NewSinceBaseline, l => l.Id.Port == kept.Port);
            }

            await using (var again = new InsightApp(settings))
            {
                await again.WaitForBatchesAsync(1, "the first poll after the restart");
                var baseline = again.State.Listeners.Baseline;
                Assert.NotNull(baseline);
                Assert.Contains(baseline.Listeners, l => l.Id.Port == kept.Port);
                Assert.DoesNotContain(again.State.Listeners.NewSinceBaseline, l => l.Id.Port == kept.Port);
                Assert.Contains(again.State.Listeners.Events, e => e.Change == ListenerChange.New); // the events of the first run are kept
            }
        }
        finally
        {
            foreach (var file in new[] { path, path + "-wal", path + "-shm" })
            {
                File.Delete(file);
            }
        }
    }

    [Fact]
    public void Listeners_sharing_an_address_and_port_are_one_listener_and_a_restart_of_its_server_is_gone_then_new()
    {
        var watch = new ListenerWatch();
        var first = Listener("0.0.0.0:8080", Process("nginx", 10));
        var second = Listener("0.0.0.0:8080", Process("nginx", 11)); // SO_REUSEPORT: another socket, same listener
        Assert.Empty(watch.Apply(Snapshot(T0, first, second), [], rebuild: true));
        var only = Assert.Single(watch.View.Current);
        Assert.Equal("nginx (10), nginx (11)", only.Owners);

        var before = Snapshot(T0, first, second);
        var withoutOne = Snapshot(T0.AddSeconds(1), second);
        Assert.Empty(watch.Apply(withoutOne, [Delta.Between(before, withoutOne)], rebuild: false));

        var none = Snapshot(T0.AddSeconds(2));
        var gone = Assert.Single(watch.Apply(none, [Delta.Between(withoutOne, none)], rebuild: false));
        Assert.Equal(ListenerChange.Gone, gone.Change);
        var back = Snapshot(T0.AddSeconds(3), Listener("0.0.0.0:8080", Process("nginx", 12)));
        Assert.Equal(ListenerChange.New, Assert.Single(watch.Apply(back, [Delta.Between(none, back)], rebuild: false)).Change);
        Assert.Equal(2, watch.View.Events.Length);
    }

    /// <summary>A loopback listener on a free port below the OS ephemeral range.</summary>
    private static InsightApp.Listener OpenOutsideTheEphemeralRange(Core.Ports.OsPortPolicy policy)
    {
        foreach (var port in Enumerable.Range(20_000, 9_999).Where(p => !policy.IsOsEphemeral(p)).OrderBy(_ => Random.Shared.Next()))
        {
            try
            {
                return new InsightApp.Listener(IPAddress.Loopback, port);
            }
            catch (System.Net.Sockets.SocketException)
            {
                // taken: try another
            }
        }

        throw new InvalidOperationException("no free port from 20000 to 29999");
    }
}
