using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using MudBlazor.Services;
using PortDashboard.Core.Ports;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PortDashboard.Monitoring;
using PortDashboard.Naming;
using PortDashboard.Tests.Support;

namespace PortDashboard.Tests.Components.Support;

/// <summary>
/// The shared setup of the component tests: MudBlazor's services with transitions off, loose JS interop, a fake feed
/// the test drives, a fake clock, and service names from a small services file. Waits are generous: they end as soon
/// as their condition holds.
/// </summary>
public abstract class DashboardTestContext : BunitContext
{
    /// <summary>How long a wait may take before the test fails (a condition, not a sleep).</summary>
    protected static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(10);

    protected static readonly DateTimeOffset Start = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);

    protected DashboardTestContext()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices(options =>
        {
            options.SnackbarConfiguration.ShowTransitionDuration = 0;
            options.SnackbarConfiguration.HideTransitionDuration = 0;
            options.PopoverOptions.CheckForPopoverProvider = false;
        });

        var servicesFile = Path.Combine(Path.GetTempPath(), $"portdashboard-services-{Guid.NewGuid():N}");
        File.WriteAllLines(servicesFile,
        [
            "# name port/proto aliases",
            "ssh          22/tcp",
            "domain       53/udp",
            "https        443/tcp",
            "postgresql   5432/tcp   postgres",
            "mdns         5353/udp",
        ]);
        ServiceNames = ServiceNameRegistry.Load(servicesFile); // read whole: the file can go
        File.Delete(servicesFile);

        Services.AddSingleton<ISnapshotFeed>(Feed);
        Services.AddSingleton<TimeProvider>(Time);
        Services.AddSingleton(ServiceNames);
        Services.AddOptions(); // the layout reads PortDashboard:Auth (sign-in off unless a test configures it)
        Services.AddSingleton(new PortDashboard.Insight.InsightState(new PortDashboard.Insight.Listeners.ListenerWatch(), Time));
        Services.AddSingleton(_ => new AddressNames(ReverseDns, Time, Options.Create(ReverseDnsOptions), NullLogger<AddressNames>.Instance));
    }

    /// <summary>The pages' reverse DNS answers from this table (nothing leaves the machine).</summary>
    protected FakeReverseDns ReverseDns { get; } = new();

    /// <summary>The reverse DNS options the page's <see cref="AddressNames"/> is built with (change before rendering).</summary>
    protected ReverseDnsOptions ReverseDnsOptions { get; } = new();

    protected FakeSnapshotFeed Feed { get; } = new();

    protected FakeTimeProvider Time { get; } = new(Start);

    protected ServiceNameRegistry ServiceNames { get; }

    protected NavigationManager Navigation => Services.GetRequiredService<NavigationManager>();
}
