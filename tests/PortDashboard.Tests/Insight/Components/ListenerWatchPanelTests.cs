using Bunit;
using Microsoft.Extensions.DependencyInjection;
using PortDashboard.Components.Controls.Insight;
using PortDashboard.Core.Sockets;
using PortDashboard.Insight;
using PortDashboard.Insight.Listeners;
using PortDashboard.Tests.Components.Support;
using static PortDashboard.Tests.Components.Support.TestSockets;

namespace PortDashboard.Tests.Insight.Components;

public sealed class ListenerWatchPanelTests : DashboardTestContext
{
    private InsightState State => Services.GetRequiredService<InsightState>();

    private ListenerWatch Watch { get; } = new();

    public ListenerWatchPanelTests() => Services.AddSingleton(new InsightState(Watch, Time));

    private static string Text(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"\s+", " ");

    [Fact]
    public async Task Flags_listeners_in_the_ephemeral_range_and_counts_new_ones_since_the_saved_baseline()
    {
        var ssh = Listener("0.0.0.0:22", Process("sshd", 812));
        var game = Listener("127.0.0.1:40000", Process("game", 3000));
        var start = Snapshot(Start, ssh);
        Watch.Apply(start, [], rebuild: true);
        var later = Snapshot(Start.AddSeconds(1), ssh, game);
        Watch.Apply(later, [Delta.Between(start, later)], rebuild: false);

        var panel = Render<ListenerWatchPanel>();

        Assert.Contains("1 listener is bound inside the OS ephemeral range (TCP 127.0.0.1:40000)", Text(panel.Find(".flag-ephemeral").TextContent), StringComparison.Ordinal);
        Assert.Equal(("1", "0"), (panel.Find(".since").GetAttribute("data-new"), panel.Find(".since").GetAttribute("data-gone")));
        Assert.Contains("+ TCP 127.0.0.1:40000 game (3000)", panel.Find(".new-listener").TextContent, StringComparison.Ordinal);

        await panel.Find(".save-baseline").ClickAsync(new());
        Time.Advance(TimeSpan.FromSeconds(1));

        panel.WaitForAssertion(() => Assert.Equal("0", panel.Find(".since").GetAttribute("data-new")), WaitTimeout);
        Assert.Contains("Since the baseline of", Text(panel.Find(".since").TextContent), StringComparison.Ordinal);
        Assert.Equal(2, State.Listeners.Baseline!.Listeners.Length);
    }

    [Fact]
    public void A_poll_that_changes_many_listeners_is_one_toast_and_a_single_change_is_its_own()
    {
        _ = Render<ListenerToasts>();
        var provider = Render<MudBlazor.MudSnackbarProvider>();
        var id = new ListenerId(TransportProtocol.Tcp, NetAddress.AnyV4, 8080);
        ListenerEvent New(int port) => new(Start, ListenerChange.New, id with { Port = port }, "app (1)", new ListenerFlags(false, true));

        State.RaiseListenerEvents([New(8080)]);
        provider.WaitForAssertion(() => Assert.Contains("New listener: TCP 0.0.0.0:8080 app (1) (all interfaces)", provider.Markup, StringComparison.Ordinal), WaitTimeout);

        State.RaiseListenerEvents([New(9001), New(9002), New(9003)]);
        provider.WaitForAssertion(() => Assert.Contains("Listeners changed: 3 new, 0 gone", provider.Markup, StringComparison.Ordinal), WaitTimeout);
        Assert.DoesNotContain("9001", provider.Markup, StringComparison.Ordinal);
    }
}
