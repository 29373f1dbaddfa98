using System.Net;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace PortDashboard.EndToEnd.Tests.Fleet;

/// <summary>
/// The fleet for real: three agents in network namespaces publish to a real redis-server; one dashboard shows each
/// host's table exactly as <c>ss -tunaH</c> in that namespace sees it, filters by host and range across hosts, shows a
/// silent host offline within 3 of its intervals (its sockets kept, marked stale), and everyone resyncs by themselves
/// after an agent or Redis restart.
/// </summary>
public sealed class FleetTests(FleetFixture fleet, PublishedApp app, ITestOutputHelper output) : IClassFixture<FleetFixture>
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(45);
    private static readonly float FirstLoad = 20_000; // ms: circuit start on a busy machine

    [Fact]
    public Task TheBrowserShowsHostsAndFiltersAcrossThem() => Reported(async () =>
    {
        await fleet.UntilEveryHostMatchesAsync(Converge);
        var context = await app.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = fleet.Http.BaseAddress!.ToString() });
        try
        {
            var page = await context.NewPageAsync();
            await page.GotoAsync("hosts");
            foreach (var name in FleetFixture.HostNames)
            {
                var row = page.Locator("tr", new() { Has = page.Locator($"a.host-name:text-is('{name}')") });
                await Expect(row.Locator(".host-status")).ToHaveTextAsync("online", new() { Timeout = FirstLoad });
            }

            // The one grammar in the URL: two hosts, one range; rows of the third host never appear.
            await page.GotoAsync("fleet?host=fleet-b,fleet-c&range=wellknown");
            var expected = (await fleet.ReferenceAsync("fleet-b")).Count(WellKnown) + (await fleet.ReferenceAsync("fleet-c")).Count(WellKnown);
            await Expect(page.Locator("table.fleet-grid tbody tr")).ToHaveCountAsync(expected, new() { Timeout = FirstLoad });
            Assert.Empty(await page.Locator("td.col-host:text-is('fleet-a')").AllAsync());
            Assert.Equal(["fleet-b", "fleet-c"], (await page.Locator("td.col-host").AllInnerTextsAsync()).Distinct().Order(StringComparer.Ordinal));

            // The picker writes the same grammar back: "All hosts" drops host= and keeps range=.
            await page.Locator("a.host-chip:text-is('All hosts')").ClickAsync();
            await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("fleet\\?range=wellknown$"));
        }
        finally
        {
            await context.CloseAsync();
        }
    });

    [Fact]
    public Task TheConnectionsPageShowsTwoHostsTablesThroughTheHostPicker() => Reported(async () =>
    {
        await fleet.UntilEveryHostMatchesAsync(Converge);
        // Tall enough that the virtualized grid renders every row of the two small tables.
        var context = await app.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = fleet.Http.BaseAddress!.ToString(),
            ViewportSize = new ViewportSize { Width = 1400, Height = 2000 },
        });
        try
        {
            var page = await context.NewPageAsync();
            await page.GotoAsync("?host=fleet-a,fleet-b");
            await Expect(page.Locator(".host-picker")).ToHaveAttributeAsync("data-hosts", "fleet-a,fleet-b", new() { Timeout = FirstLoad });

            // Host, protocol, local port and remote port of each row, against ss -tunaH in each namespace.
            var expected = new List<string>();
            foreach (var name in (string[])["fleet-a", "fleet-b"])
            {
                expected.AddRange((await fleet.ReferenceAsync(name)).Select(line => $"{name} {PortsOf(line)}"));
            }

            expected.Sort(StringComparer.Ordinal);
            await fleet.Until("the Connections page shows exactly fleet-a's and fleet-b's tables", async () =>
                (await GridRowsAsync(page)).SequenceEqual(expected), Converge);
            Assert.NotEmpty(await page.Locator("th.col-host").AllAsync()); // two hosts in view: the Host column
            Directory.CreateDirectory(PublishedApp.Screenshots); // the README's, with PORTDASHBOARD_UPDATE_SCREENSHOTS=1
            var shot = Path.Combine(PublishedApp.Screenshots, "fleet-connections.png");
            await page.ScreenshotAsync(new() { Path = shot, Clip = new Clip { X = 0, Y = 0, Width = 1400, Height = 760 } });
            Assert.True(new FileInfo(shot).Length > 10_000, "the screenshot shows the page");

            // host=* (the picker's "All hosts") brings the third host's rows in, through the same range= as ever.
            await page.GotoAsync("?host=*&range=wellknown");
            var wellKnown = new List<string>();
            foreach (var name in FleetFixture.HostNames)
            {
                wellKnown.AddRange((await fleet.ReferenceAsync(name)).Where(WellKnown).Select(line => $"{name} {PortsOf(line)}"));
            }

            wellKnown.Sort(StringComparer.Ordinal);
            await fleet.Until("host=* with range=wellknown shows every host's well-known rows", async () =>
                (await GridRowsAsync(page)).SequenceEqual(wellKnown), Converge);
        }
        finally
        {
            await context.CloseAsync();
        }
    });

    /// <summary>The grid's rows as "host proto localPort remotePort" (an unconnected remote as 0), sorted.</summary>
    private static async Task<List<string>> GridRowsAsync(IPage page)
    {
        var rows = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('.socket-grid tbody tr.mud-table-row')].map(r =>
                [r.querySelector('td.col-host span').textContent.trim(),
                 r.querySelector('td.col-proto').textContent.trim().toLowerCase(),
                 r.querySelector('td.col-local-port .port').textContent.trim(),
                 r.querySelector('td.col-remote-port .port')?.textContent.trim() ?? '0'].join(' '))
            """);
        return [.. rows.Order(StringComparer.Ordinal)];
    }

    /// <summary>An ss reference line "proto local remote" as "proto localPort remotePort".</summary>
    private static string PortsOf(string line)
    {
        var fields = line.Split(' ');
        static string Port(string endpoint) =>
            int.TryParse(endpoint[(endpoint.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture, out var port) ? port.ToString(System.Globalization.CultureInfo.InvariantCulture) : "0";
        return $"{fields[0]} {Port(fields[1])} {Port(fields[2])}";
    }

    [Fact]
    public Task MetricsCarryTheHostLabel() => Reported(async () =>
    {
        await fleet.UntilEveryHostMatchesAsync(Converge);
        var lines = (await fleet.Http.GetStringAsync(new Uri("metrics", UriKind.Relative))).Split('\n');
        foreach (var name in FleetFixture.HostNames)
        {
            Assert.Contains(lines, l => l.StartsWith("portdashboard_fleet_host_online{", StringComparison.Ordinal)
                && l.Contains($"host=\"{name}\"", StringComparison.Ordinal) && SampleValue(l) == "1");
        }

        Assert.Contains(lines, l => l.StartsWith("portdashboard_fleet_listeners_exposed", StringComparison.Ordinal)
            && l.Contains("host=\"fleet-a\"", StringComparison.Ordinal) && SampleValue(l) == "2");
    });

    [Fact]
    public Task TheDashboardShowsExactlyEachHostsTable() => Reported(async () =>
    {
        await fleet.UntilEveryHostMatchesAsync(Converge);

        var hosts = await fleet.HostsAsync();
        Assert.Equal(FleetFixture.HostNames, hosts.Keys.Order(StringComparer.Ordinal));
        var a = hosts["fleet-a"].GetProperty("summary");
        Assert.Equal(2, a.GetProperty("listeners").GetInt32()); // TCP *:6379 and UDP *:5353, both on every address
        Assert.Equal(2, a.GetProperty("exposedListeners").GetInt32());
        Assert.Equal(1, hosts["fleet-b"].GetProperty("summary").GetProperty("exposedListeners").GetInt32()); // *:8080, not 127.0.0.1:80
    });

    [Fact]
    public Task HostAndRangeFiltersWorkAcrossHosts() => Reported(async () =>
    {
        await fleet.UntilEveryHostMatchesAsync(Converge);

        var filtered = await fleet.GetJsonAsync("api/fleet/snapshot?host=fleet-a,FLEET-B&range=wellknown");
        Assert.Equal("range=wellknown&host=fleet-a,fleet-b", filtered.GetProperty("filter").GetString());
        var hosts = filtered.GetProperty("hosts").EnumerateArray().ToDictionary(h => h.GetProperty("host").GetString()!);
        Assert.Equal(["fleet-a", "fleet-b"], hosts.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, host) in hosts)
        {
            var expected = (await fleet.ReferenceAsync(name)).Where(WellKnown).ToList();
            Assert.Equal(expected, FleetFixture.Lines(host));
        }

        Assert.Empty(FleetFixture.Lines(hosts["fleet-a"])); // 6379 and 5353 are registered
        Assert.Equal(3, FleetFixture.Lines(hosts["fleet-b"]).Count); // 127.0.0.1:80 and its connection's two ends

        using var csv = await fleet.Http.GetAsync(new Uri("api/fleet/snapshot.csv?host=fleet-c&range=wellknown", UriKind.Relative));
        var rows = (await csv.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal((await fleet.ReferenceAsync("fleet-c")).Count(WellKnown), rows.Length - 1);
        Assert.All(rows.Skip(1), row => Assert.StartsWith("fleet-c,false,", row, StringComparison.Ordinal));

        using var bad = await fleet.Http.GetAsync(new Uri("api/fleet/snapshot?host=web/1", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("bad host name 'web/1'", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    });

    [Fact]
    public Task AStoppedAgentIsOfflineWithinThreeIntervalsAndResyncsWhenItReturns() => Reported(async () =>
    {
        await fleet.UntilEveryHostMatchesAsync(Converge);
        var before = (await fleet.HostsAsync())["fleet-c"];
        var sockets = FleetFixture.Lines((await fleet.GetJsonAsync("api/fleet/snapshot?host=fleet-c")).GetProperty("hosts")[0]);

        await fleet.KillAgentAsync("fleet-c");
        DateTimeOffset offlineAt = default;
        DateTimeOffset lastSeen = default;
        await fleet.Until("fleet-c offline", async () =>
        {
            var host = (await fleet.HostsAsync())["fleet-c"];
            offlineAt = DateTimeOffset.UtcNow;
            lastSeen = host.GetProperty("lastSeen").GetDateTimeOffset();
            return host.GetProperty("status").GetString() == "offline";
        }, Converge);
        var silence = offlineAt - lastSeen;
        output.WriteLine($"offline {silence.TotalMilliseconds:F0} ms after its last heartbeat (interval {FleetFixture.AgentInterval.TotalMilliseconds} ms)");
        Assert.True(silence <= 3 * FleetFixture.AgentInterval, $"offline {silence.TotalMilliseconds:F0} ms after the last heartbeat; expected within 3 intervals");

        // Kept, but never shown as live.
        var offline = (await fleet.GetJsonAsync("api/fleet/snapshot?host=fleet-c")).GetProperty("hosts")[0];
        Assert.True(offline.GetProperty("stale").GetBoolean());
        Assert.Equal(sockets, FleetFixture.Lines(offline));
        using (var csv = await fleet.Http.GetAsync(new Uri("api/fleet/snapshot.csv?host=fleet-c", UriKind.Relative)))
        {
            Assert.All((await csv.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Skip(1),
                row => Assert.StartsWith("fleet-c,true,", row, StringComparison.Ordinal));
        }

        // While it is away its table changes; back, it shows the fresh table from a new snapshot.
        fleet.Namespaces["fleet-c"].Listen(IPAddress.Any, 443, connections: 1);
        fleet.StartAgent("fleet-c");
        await fleet.UntilEveryHostMatchesAsync(Converge);
        var after = (await fleet.HostsAsync())["fleet-c"];
        Assert.NotEqual(before.GetProperty("instance").GetString(), after.GetProperty("instance").GetString());
        Assert.True(after.GetProperty("resyncs").GetInt64() > before.GetProperty("resyncs").GetInt64());
        Assert.Contains("tcp *:443 *:0", FleetFixture.Lines((await fleet.GetJsonAsync("api/fleet/snapshot?host=fleet-c")).GetProperty("hosts")[0]));
    });

    [Fact]
    public Task ARedisRestartIsSurvivedByEveryoneWhoResyncByThemselves() => Reported(async () =>
    {
        await fleet.UntilEveryHostMatchesAsync(Converge);
        var instances = (await fleet.HostsAsync()).ToDictionary(h => h.Key, h => h.Value.GetProperty("instance").GetString());

        await fleet.Redis.StopAsync();
        await fleet.Until("the dashboard reports Redis lost and no host live", async () =>
        {
            var hosts = await fleet.GetJsonAsync("api/fleet/hosts");
            using var health = await fleet.Http.GetAsync(new Uri("healthz", UriKind.Relative));
            var body = await health.Content.ReadAsStringAsync();
            return !hosts.GetProperty("redisConnected").GetBoolean()
                && hosts.GetProperty("hosts").EnumerateArray().All(h => h.GetProperty("status").GetString() != "online")
                && health.StatusCode == HttpStatusCode.OK && body.Contains("\"Degraded\"", StringComparison.Ordinal);
        }, Converge);

        // Changes while Redis is away; on fleet-c and a registered port, as the hosts' tables are shared by every
        // test of this class and the others count fleet-a's and fleet-b's listeners and well-known sockets.
        fleet.Namespaces["fleet-c"].Listen(IPAddress.Any, 2525, connections: 1);
        await fleet.Redis.RestartAsync(); // empty: nothing persisted
        await fleet.UntilEveryHostMatchesAsync(Converge);

        var after = await fleet.HostsAsync();
        foreach (var (name, instance) in instances)
        {
            Assert.Equal(instance, after[name].GetProperty("instance").GetString()); // the same agents, reconnected by themselves
        }

        Assert.Contains("tcp *:2525 *:0", FleetFixture.Lines((await fleet.GetJsonAsync("api/fleet/snapshot?host=fleet-c")).GetProperty("hosts")[0]));
        Assert.True((await fleet.GetJsonAsync("api/fleet/hosts")).GetProperty("redisConnected").GetBoolean());
    });

    [Fact]
    public Task AWrongPasswordOrAnUnreachableRedisIsReportedAndNeverACrash() => Reported(async () =>
    {
        await using var locked = await RedisProcess.StartAsync("--requirepass", "the-right-one");
        int closedPort;
        using (var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            closedPort = ((IPEndPoint)probe.LocalEndpoint).Port; // nothing listens there once it is closed
        }

        var cases = new (HttpClient Http, string Name, string Why)[]
        {
            (await fleet.StartOtherDashboardAsync("wrong-password", locked.TcpConfiguration, "--PortDashboard:Fleet:Password=wrong"), "wrong-password", "credentials"),
            (await fleet.StartOtherDashboardAsync("unreachable", $"127.0.0.1:{closedPort}"), "unreachable", $"127.0.0.1:{closedPort}"),
        };
        foreach (var (http, name, why) in cases)
        {
            string description = "";
            await fleet.Until($"{name}: /healthz degraded saying why", async () =>
            {
                using var health = await http.GetAsync(new Uri("healthz", UriKind.Relative));
                var body = await health.Content.ReadAsStringAsync();
                description = body;
                return health.StatusCode == HttpStatusCode.OK && body.Contains("\"Degraded\"", StringComparison.Ordinal)
                    && body.Contains(why, StringComparison.OrdinalIgnoreCase);
            }, Converge);
            output.WriteLine($"{name}: {description}");
            Assert.Contains($"[{name}] ", fleet.Describe(), StringComparison.Ordinal);
            Assert.Contains("retrying by itself", fleet.Describe(), StringComparison.Ordinal);

            var hosts = await http.GetStringAsync(new Uri("api/fleet/hosts", UriKind.Relative));
            Assert.Contains("\"redisConnected\":false", hosts, StringComparison.Ordinal);
            var page = await http.GetStringAsync(new Uri("hosts", UriKind.Relative));
            Assert.Contains("fleet-banner", page, StringComparison.Ordinal); // the banner, on every page
        }

        Assert.True(fleet.AllRunning, "a dashboard exited");
    });

    [Fact]
    public Task TwoDashboardNodesSendTheSameSequenceOfAHostsChangesToTheirHubClients() => Reported(async () =>
    {
        var cancellation = TestContext.Current.CancellationToken;
        await fleet.UntilEveryHostMatchesAsync(Converge);
        var node2 = await fleet.StartOtherDashboardAsync("node-2", fleet.Redis.TcpConfiguration);

        // One client each, one per protocol: the same messages whatever the encoding.
        await using var first = new FleetHubClient(fleet.Http.BaseAddress!, messagePack: false);
        await using var second = new FleetHubClient(node2.BaseAddress!, messagePack: true);
        Assert.Equal("host=fleet-c", await first.SubscribeAsync("host=FLEET-C", cancellation));
        Assert.Equal("host=fleet-c", await second.SubscribeAsync("host=fleet-c", cancellation));
        foreach (var client in new[] { first, second })
        {
            await client.UntilAsync("fleet-c's FleetSnapshot", c => c.Started.ContainsKey("fleet-c"), Converge, cancellation);
            Assert.Equal(["fleet-c"], client.Tables.Keys); // host= keeps the other hosts out
        }

        // Several changes, each seen before the next (so they land in separate polls): a listener opens, the previous closes.
        const int FirstPort = 7100, Steps = 4;
        var ns = fleet.Namespaces["fleet-c"];
        IDisposable? previous = null;
        for (var i = 0; i < Steps; i++)
        {
            var opened = ns.ListenUntilDisposed(System.Net.IPAddress.Any, FirstPort + i, connections: 0);
            previous?.Dispose();
            previous = opened;
            var port = FirstPort + i;
            await first.UntilAsync($"step {i}: only the listener on {port}", c => Listeners(c) == $"{port}", Converge, cancellation);
        }

        using var last = previous;
        var final = $"{FirstPort + Steps - 1}";
        await second.UntilAsync($"node-2's client: only the listener on {final}", c => Listeners(c) == final, Converge, cancellation);

        // Over the stretch both saw (after both snapshots, up to the older of their latest deltas): the same deltas,
        // with the agent's sequence numbers and the same sockets added and removed.
        var from = Math.Max(first.Started["fleet-c"], second.Started["fleet-c"]);
        var to = Math.Min(first.Deltas["fleet-c"][^1].ToSequence, second.Deltas["fleet-c"][^1].ToSequence);
        var seenFirst = Stretch(first, from, to);
        var seenSecond = Stretch(second, from, to);
        output.WriteLine($"deltas {from + 1}..{to}: {string.Join(" | ", seenFirst)}");
        Assert.Equal(seenFirst, seenSecond);
        Assert.Equal(0, first.Resyncs + second.Resyncs);
        var added = first.Deltas["fleet-c"].Where(d => d.FromSequence > from && d.ToSequence <= to).SelectMany(d => d.Added)
            .Where(s => s.State == "listen").Select(s => s.Local.Port).Order();
        Assert.Equal(Enumerable.Range(FirstPort, Steps), added.Where(p => p >= FirstPort && p < FirstPort + Steps));
    });

    /// <summary>The ports of the client's fleet-c listeners in 7100..7199, comma-joined.</summary>
    private static string Listeners(FleetHubClient client) => client.Tables.TryGetValue("fleet-c", out var table)
        ? string.Join(',', table.Values.Where(s => s.State == "listen" && s.Local.Port is >= 7100 and < 7200).Select(s => s.Local.Port).Order())
        : "";

    /// <summary>Each delta in (from, to] as "from-to +added -removed" with ids sorted.</summary>
    private static List<string> Stretch(FleetHubClient client, long from, long to) =>
        [.. client.Deltas["fleet-c"].Where(d => d.FromSequence > from && d.ToSequence <= to).Select(d =>
            $"{d.FromSequence}-{d.ToSequence} +{string.Join(',', d.Added.Select(s => s.Id).Order(StringComparer.Ordinal))} -{string.Join(',', d.Removed.Order(StringComparer.Ordinal))}")];

    /// <summary>An ss line "proto local remote" with a port of either end in 1..1023 (range=wellknown's test).</summary>
    private static bool WellKnown(string line) =>
        line.Split(' ').Skip(1).Any(endpoint => int.Parse(endpoint[(endpoint.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture) is > 0 and < 1024);

    /// <summary>A Prometheus sample line's value (the token after the labels; a timestamp may follow).</summary>
    private static string SampleValue(string line) => line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0];

    private async Task Reported(Func<Task> test)
    {
        try
        {
            await test();
        }
        catch
        {
            output.WriteLine(fleet.Describe());
            throw;
        }
    }
}
