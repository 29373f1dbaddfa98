using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Playwright;

[assembly: AssemblyFixture(typeof(PortDashboard.EndToEnd.Tests.PublishedApp))]

namespace PortDashboard.EndToEnd.Tests;

/// <summary>
/// The app as it ships: published once (Release) into a temporary directory, started in the Production environment on
/// a free loopback port with a fast poll interval, and a headless Debian chromium to look at it. Everything is stopped
/// and deleted at the end; the app's output is kept for the report of a failing test.
/// </summary>
public class PublishedApp : IAsyncLifetime
{
    /// <summary>The poll interval the app runs with; the tests' deadlines are counted in it.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private static readonly string[] ChromiumArgs =
    [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    private readonly ConcurrentQueue<string> _output = new();
    private readonly string _publishDirectory = Path.Combine(Path.GetTempPath(), $"portdashboard-e2e-{Guid.NewGuid():N}");
    private Process? _app;
    private IPlaywright? _playwright;

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>
    /// Where the browser tests save their screenshots: beside the test binaries, so a test run leaves the working tree
    /// as it was; <c>docs/screenshots</c> (the README's) with <c>PORTDASHBOARD_UPDATE_SCREENSHOTS=1</c>.
    /// </summary>
    public static string Screenshots { get; } = Environment.GetEnvironmentVariable("PORTDASHBOARD_UPDATE_SCREENSHOTS") == "1"
        ? Path.Combine(RepositoryRoot, "docs", "screenshots")
        : Path.Combine(AppContext.BaseDirectory, "screenshots");

    public Uri BaseAddress { get; private set; } = default!;

    /// <summary>Where the app was published: other tests start more instances of it from here (the fleet's agents).</summary>
    public string PublishDirectory => _publishDirectory;

    public IBrowser Browser { get; private set; } = default!;

    public HttpClient Http { get; private set; } = default!;

    /// <summary>What the publish and the app printed, for a failing test's report.</summary>
    public string Output => string.Join('\n', _output);

    public async ValueTask InitializeAsync()
    {
        try
        {
            var (dll, workingDirectory) = await PrepareAsync();
            await StartAsync(dll, workingDirectory);
            _playwright = await Playwright.CreateAsync();
            Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = "/usr/bin/chromium",
                Headless = true,
                Args = ChromiumArgs,
            });
        }
        catch (Exception e)
        {
            await DisposeAsync();
            throw new InvalidOperationException($"The published app could not be started: {e.Message}\n--- output ---\n{Output}", e);
        }
    }

    /// <summary>A fresh page in its own browser context, sized like a laptop screen.</summary>
    /// <summary>Runs a browser test on a fresh page (closed afterwards); on failure, writes the app's output to the test's log.</summary>
    public Task WithPageAsync(ITestOutputHelper output, Func<IPage, Task> test) => ReportedAsync(output, async () =>
    {
        var page = await NewPageAsync();
        try
        {
            await test(page);
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    });

    /// <summary>Runs a test; on failure, writes the app's output to the test's log before rethrowing.</summary>
    public async Task ReportedAsync(ITestOutputHelper output, Func<Task> test)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(test);
        try
        {
            await test();
        }
        catch
        {
            output.WriteLine(Describe());
            throw;
        }
    }

    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1600, Height = 1000 },
            ColorScheme = ColorScheme.Light,
        });
        return await context.NewPageAsync();
    }

    /// <summary>Publishes the app; the dll to start and the directory to start it in.</summary>
    protected virtual async Task<(string Dll, string WorkingDirectory)> PrepareAsync()
    {
        await PublishAsync();
        return (Path.Combine(_publishDirectory, "PortDashboard.dll"), _publishDirectory);
    }

    /// <summary>Adds to the app's start (environment, arguments) before it runs.</summary>
    protected virtual void Configure(ProcessStartInfo start)
    {
    }

    /// <summary>Runs <c>dotnet</c> with <paramref name="args"/> in the repository root; throws unless it exits with 0.</summary>
    protected async Task RunDotnetAsync(string[] args, TimeSpan timeout)
    {
        var exitCode = await RunAsync("dotnet", args, RepositoryRoot, timeout);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"dotnet {string.Join(' ', args)} exited with {exitCode}");
        }
    }

    private Task PublishAsync() =>
        RunDotnetAsync(["publish", Path.Combine(RepositoryRoot, "src", "PortDashboard"), "-c", "Release", "-o", _publishDirectory, "-nologo"], PublishTimeout);

    private async Task StartAsync(string dll, string workingDirectory)
    {
        var port = FreeLoopbackPort();
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(BaseAddress.GetLeftPart(UriPartial.Authority));
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["PortDashboard__PollInterval"] = PollInterval.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        // The page would look up the names of every remote address on this host, and DNS leaves the machine: the
        // names are pinned by the component tests with a fake resolver instead.
        start.Environment["PortDashboard__ReverseDns__Enabled"] = "false";
        Configure(start);

        _app = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        Capture(_app, "app");

        Http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            if (_app.HasExited)
            {
                throw new InvalidOperationException($"the app exited with {_app.ExitCode} before it was healthy");
            }

            try
            {
                using var response = await Http.GetAsync(new Uri("healthz", UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"/healthz did not answer 200 within {StartTimeout.TotalSeconds} s");
            }

            await Task.Delay(100); // polling interval of a condition with a deadline
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        Http?.Dispose();
        if (_app is { HasExited: false })
        {
            _app.Kill(entireProcessTree: true);
            await _app.WaitForExitAsync();
        }

        _app?.Dispose();
        try
        {
            Directory.Delete(_publishDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }

        CleanUp();
        GC.SuppressFinalize(this);
    }

    /// <summary>Deletes what a derived fixture made, once the app has stopped.</summary>
    protected virtual void CleanUp()
    {
    }

    private async Task<int> RunAsync(string file, string[] args, string directory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        Capture(process, Path.GetFileName(file));
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout}");
        }

        return process.ExitCode;
    }

    private void Capture(Process process, string name)
    {
        process.OutputDataReceived += (_, e) => Keep(name, e.Data);
        process.ErrorDataReceived += (_, e) => Keep(name + "!", e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    private void Keep(string source, string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue($"[{source}] {line}");
        while (_output.Count > 2000 && _output.TryDequeue(out _))
        {
            // Keep the latest lines only.
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "PortDashboard.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No PortDashboard.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>Describes the app's recent output, for a failing test's report.</summary>
    public string Describe()
    {
        var builder = new StringBuilder();
        builder.AppendLine($"App at {BaseAddress} ({GetType().Name}, {_publishDirectory}); its latest output:");
        foreach (var line in _output.TakeLast(200))
        {
            builder.AppendLine(line);
        }

        return builder.ToString();
    }
}
