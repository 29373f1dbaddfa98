using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using PortDashboard.Monitoring;
using PortDashboard.Tests.Support;

namespace PortDashboard.Tests.Resilience;

/// <summary>
/// The real app on a real Kestrel port whose snapshot service runs on a <see cref="FakeTimeProvider"/>: a test decides
/// when each poll happens (<see cref="Tick"/>) and how old the last snapshot is, with no wall-clock waits.
/// Batches of deltas go out without delay (minimum batch interval 0), since that delay would run on the fake clock too.
/// </summary>
public sealed class FakeClockApp : IAsyncDisposable
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    private FakeClockApp(PortDashboardFactory factory, FakeTimeProvider time)
    {
        Factory = factory;
        Time = time;
    }

    public PortDashboardFactory Factory { get; }

    public FakeTimeProvider Time { get; }

    public HttpClient Client { get; private set; } = null!;

    public Uri BaseAddress { get; private set; } = null!;

    public SnapshotService Service { get; private set; } = null!;

    public SnapshotFeed Feed => Factory.Services.GetRequiredService<SnapshotFeed>();

    /// <param name="clock">The clock the app gets, made from the fake one the test advances (by default that one).</param>
    public static async Task<FakeClockApp> StartAsync(
        IReadOnlyDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null,
        Func<FakeTimeProvider, TimeProvider>? clock = null)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var merged = new Dictionary<string, string?>
        {
            ["PortDashboard:PollInterval"] = PollInterval.ToString("c"),
            ["PortDashboard:MinimumBatchInterval"] = "00:00:00",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            merged[key] = value;
        }

        var factory = new PortDashboardFactory(merged, s =>
        {
            s.Replace(ServiceDescriptor.Singleton(clock?.Invoke(time) ?? time));
            services?.Invoke(s);
        });
        var app = new FakeClockApp(factory, time);
        app.BaseAddress = factory.Start();
        app.Client = new HttpClient { BaseAddress = app.BaseAddress };
        app.Service = factory.Services.GetServices<IHostedService>().OfType<SnapshotService>().Single();
        await Eventually.WaitUntil(() => app.Service.Ticks >= 1, "the snapshot service's first poll");
        return app;
    }

    /// <summary>Moves the clock one poll interval on and waits until the service has handled that tick.</summary>
    public async Task Tick()
    {
        var before = Service.Ticks;
        Time.Advance(PollInterval);
        await Eventually.WaitUntil(() => Service.Ticks > before, $"poll {before + 1}");
    }

    /// <summary>Ticks until <paramref name="condition"/> holds, at most <paramref name="maxTicks"/> times.</summary>
    public async Task TickUntil(Func<bool> condition, string what, int maxTicks = 64)
    {
        for (var i = 0; i < maxTicks && !condition(); i++)
        {
            await Tick();
        }

        Assert.True(condition(), $"after {maxTicks} polls, still not: {what}");
    }

    public async Task<(HttpStatusCode Status, JsonElement Body)> GetJson(string path)
    {
        using var response = await Client.GetAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken);
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        using var document = JsonDocument.Parse(text);
        return (response.StatusCode, document.RootElement.Clone());
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        await Factory.DisposeAsync();
    }
}
