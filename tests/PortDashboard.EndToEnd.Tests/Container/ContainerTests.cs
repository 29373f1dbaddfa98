using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace PortDashboard.EndToEnd.Tests.Container;

/// <summary>
/// docker/Dockerfile and docker/compose.yaml, checked as files and by running what the image runs (see
/// <see cref="ContainerRun"/> for what differs from a real container, and why).
/// </summary>
public sealed partial class ContainerTests(ContainerRun run) : IClassFixture<ContainerRun>
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private ContainerDefinition Definition => run.Definition;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public void The_image_is_built_in_the_sdk_and_runs_the_published_app_on_the_aspnet_runtime()
    {
        Assert.Equal(2, Definition.Stages.Count);
        Assert.EndsWith("/sdk:10.0", Definition.Stages[0], StringComparison.Ordinal);
        Assert.EndsWith("/aspnet:10.0", Definition.Stages[1], StringComparison.Ordinal);
        Assert.Equal(["dotnet", "/app/PortDashboard.dll"], Definition.Entrypoint);
        Assert.Equal("/app", Definition.WorkingDirectory);
        Assert.Equal("$APP_UID", Definition.User); // the runtime image's non-root user, unless compose says otherwise

        // Every file the build copies exists: the image builds from this repository as it is.
        foreach (var source in Definition.CopySources)
        {
            var path = Path.Combine(ContainerRun.RepositoryRoot, source);
            Assert.True(File.Exists(path) || Directory.Exists(path), $"COPY {source}: no such file in the repository");
        }
    }

    [Fact]
    public void The_image_listens_on_loopback_on_the_port_it_exposes_and_probes_its_own_health()
    {
        var environment = Definition.Environment;
        var urls = new Uri(environment["Urls"]);

        Assert.True(IPAddress.IsLoopback(IPAddress.Parse(urls.Host)), $"Urls={environment["Urls"]} is not loopback");
        Assert.Equal([urls.Port], Definition.Exposed);
        Assert.Equal("", Definition.ImageEnvironment["ASPNETCORE_HTTP_PORTS"]);
        Assert.Equal(["dotnet", "/app/PortDashboard.dll", "healthcheck"], Definition.HealthCheck);
        Assert.True(Definition.HealthCheckOptions.ContainsKey("--interval"));
    }

    [Fact]
    public void Compose_gives_the_host_s_network_processes_and_proc_read_only_and_nothing_more()
    {
        Assert.Equal("host", Definition.Scalar("network_mode"));
        Assert.Equal("host", Definition.Scalar("pid"));
        Assert.Contains("/proc:/host/proc:ro", Definition.List("volumes"));
        Assert.Equal("/host/proc", Definition.ComposeEnvironment["PortDashboard__ProcRoot"]);
        Assert.Equal(["ALL"], Definition.List("cap_drop"));
        Assert.Equal(["SYS_PTRACE", "DAC_READ_SEARCH"], Definition.List("cap_add"));
        Assert.Equal("true", Definition.Scalar("read_only"));
        Assert.Contains("no-new-privileges:true", Definition.List("security_opt"));
        Assert.Equal("unless-stopped", Definition.Scalar("restart"));
        Assert.Empty(Definition.List("ports")); // host networking publishes nothing; Urls is the bind

        // What the app writes must be on a tmpfs: the file log sits under the content root (/app) in logs/.
        Assert.Contains("/app/logs", Definition.List("tmpfs"));
        var appsettings = File.ReadAllText(Path.Combine(ContainerRun.RepositoryRoot, "appsettings.json"));
        Assert.Contains("\"path\": \"logs/", appsettings, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_published_app_started_as_the_image_starts_it_is_healthy_serves_a_page_and_its_healthcheck_passes()
    {
        var port = ContainerRun.FreeLoopbackPort();
        var environment = run.Environment(port);
        await using var app = run.Start(environment);
        var baseAddress = new Uri(environment["Urls"] + "/");

        await app.WaitUntilHealthyAsync(new Uri(baseAddress, "healthz"), StartTimeout);

        using var http = new HttpClient { BaseAddress = baseAddress };
        using var page = await http.GetAsync(new Uri("/", UriKind.Relative), Cancellation);
        var html = await page.Content.ReadAsStringAsync(Cancellation);
        Assert.Contains("_framework/blazor.web.js", html, StringComparison.Ordinal); // the Blazor page, rendered on the server
        Assert.True(page.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound, $"GET / answered {page.StatusCode}"); // 404: before the dashboard pages exist
        Assert.True(page.Headers.Contains("Content-Security-Policy"));
        await SeesItsOwnListener(http, port);

        var (exit, output) = await run.RunToEndAsync(run.Command(Definition.HealthCheck), environment);
        Assert.True(exit == 0, $"the HEALTHCHECK command exited with {exit}: {output}");
        Assert.Contains("\"status\":\"Healthy\"", output, StringComparison.Ordinal);

        Assert.Matches(StartupSummary(), app.Output);
        Assert.DoesNotContain("Overriding HTTP_PORTS", app.Output, StringComparison.Ordinal);
    }

    /// <summary>Waits until the app's socket table holds its own listener (the first snapshot is taken before Kestrel binds).</summary>
    private static async Task SeesItsOwnListener(HttpClient http, int port)
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        while (!(await http.GetStringAsync(new Uri($"/api/snapshot?state=listen&port={port}", UriKind.Relative), Cancellation)).Contains($"\"port\":{port}", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the app's snapshots never showed its own listener on {port}");
            await Task.Delay(100, Cancellation); // polling interval of a condition with a deadline
        }
    }

    [Fact]
    public async Task With_LogFormat_json_every_log_line_is_a_structured_event_and_the_start_up_summary_has_its_facts_as_properties()
    {
        var port = ContainerRun.FreeLoopbackPort();
        var environment = run.Environment(port, new Dictionary<string, string> { ["PortDashboard__LogFormat"] = "json" });
        await using var app = run.Start(environment);
        await app.WaitUntilHealthyAsync(new Uri(environment["Urls"] + "/healthz"), StartTimeout);

        JsonElement? started = null;
        var deadline = DateTime.UtcNow + StartTimeout;
        while (started is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "no start-up summary in the log:\n" + app.Output);
            var events = app.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();
            started = events.Cast<JsonElement?>().FirstOrDefault(e => e!.Value.GetProperty("@mt").GetString()!.StartsWith("PortDashboard started", StringComparison.Ordinal));
            await Task.Delay(100, Cancellation); // polling interval of a condition with a deadline
        }

        var summary = started.Value;
        Assert.Equal("loopback only", summary.GetProperty("Exposure").GetString());
        Assert.Equal("no sign-in", summary.GetProperty("Access").GetString());
        Assert.Equal("netlink", summary.GetProperty("Reader").GetString());
        Assert.Equal($"http://127.0.0.1:{port}", summary.GetProperty("Addresses")[0].GetString());
    }

    [Fact]
    public async Task The_healthcheck_fails_when_nothing_answers()
    {
        var environment = run.Environment(ContainerRun.FreeLoopbackPort());

        var (exit, output) = await run.RunToEndAsync(run.Command(Definition.HealthCheck), environment);

        Assert.Equal(1, exit);
        Assert.Contains("/healthz", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Asked_to_listen_on_every_interface_without_credentials_the_image_refuses_to_start_and_says_why()
    {
        var environment = run.Environment(ContainerRun.FreeLoopbackPort());
        environment["Urls"] = environment["Urls"].Replace("127.0.0.1", "0.0.0.0", StringComparison.Ordinal);
        await using var app = run.Start(environment);

        await app.Process.WaitForExitAsync(Cancellation).WaitAsync(StartTimeout, Cancellation);

        Assert.Equal(1, app.Process.ExitCode);
        Assert.Contains("PortDashboard cannot start", app.Output, StringComparison.Ordinal);
        Assert.Contains("which other machines can reach, but no credentials are configured", app.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_image_makes_password_hashes_for_its_configuration()
    {
        var (exit, output) = await run.RunToEndAsync(run.Command(Definition.Entrypoint, "hash-password", "alice"), run.Environment(1), "a long enough password");

        Assert.Equal(0, exit);
        Assert.Matches("^AQAAAA[A-Za-z0-9+/=]{60,}$", output.Split('\n')[0]);
        Assert.Contains("PortDashboard__Auth__Users__alice=", output, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"PortDashboard started: listening on .*127\.0\.0\.1.*, loopback only; no sign-in; reader netlink")]
    private static partial Regex StartupSummary();
}
