using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace PortDashboard.EndToEnd.Tests.Container;

/// <summary>
/// Runs what the image runs, without a container engine: the app published once (Release) into a temporary directory
/// standing for the image's /app, started with the ENTRYPOINT and the environment docker/Dockerfile and
/// docker/compose.yaml set, read from the files. Only what cannot be had here is changed, each on purpose:
/// <list type="bullet">
/// <item><c>PortDashboard__ProcRoot</c>: /host/proc (the host's /proc mounted into the container) becomes /proc, since
/// there is no /host/proc on this machine; with the host's PID and network namespaces they show the same.</item>
/// <item>The port of <c>Urls</c> becomes a free one (the address, loopback, is kept): 8080 may be taken here.</item>
/// <item><c>/app</c> in the ENTRYPOINT and HEALTHCHECK becomes the publish directory, which is also the working directory (WORKDIR).</item>
/// </list>
/// The base image's own variables the Dockerfile relies on clearing are set as the base image sets them
/// (<c>ASPNETCORE_HTTP_PORTS=8080</c>); variables of the test process that would change the app's behaviour
/// (<c>ASPNETCORE_*</c>, <c>DOTNET_ENVIRONMENT</c>, <c>PortDashboard__*</c>, <c>Urls</c>) are removed.
/// </summary>
public sealed class ContainerRun : IAsyncLifetime
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(10);

    private readonly string _publishDirectory = Path.Combine(Path.GetTempPath(), $"portdashboard-container-{Guid.NewGuid():N}");

    public ContainerDefinition Definition { get; } = ContainerDefinition.Load(RepositoryRoot);

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public string PublishDirectory => _publishDirectory;

    public async ValueTask InitializeAsync()
    {
        var (exit, output) = await RunToEndAsync(
            "dotnet",
            ["publish", Path.Combine(RepositoryRoot, "src", "PortDashboard"), "--configuration", "Release", "--output", _publishDirectory, "-nologo"],
            RepositoryRoot,
            null,
            PublishTimeout);
        if (exit != 0)
        {
            throw new InvalidOperationException($"dotnet publish exited with {exit}:\n{output}");
        }
    }

    public ValueTask DisposeAsync()
    {
        try
        {
            Directory.Delete(_publishDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>The environment the container's process gets, mapped as this class says, with <paramref name="overrides"/> on top.</summary>
    public Dictionary<string, string> Environment(int port, IReadOnlyDictionary<string, string>? overrides = null)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["ASPNETCORE_HTTP_PORTS"] = "8080", // the base runtime image's default, which the Dockerfile clears
        };
        foreach (var (key, value) in Definition.Environment)
        {
            environment[key] = value;
        }

        environment["PortDashboard__ProcRoot"] = environment["PortDashboard__ProcRoot"].Replace("/host/proc", "/proc", StringComparison.Ordinal);
        var urls = new Uri(environment["Urls"]);
        environment["Urls"] = new UriBuilder(urls) { Port = port }.Uri.GetLeftPart(UriPartial.Authority);
        foreach (var (key, value) in overrides ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        return environment;
    }

    /// <summary>The ENTRYPOINT (or HEALTHCHECK) command with /app mapped to the publish directory.</summary>
    public string[] Command(IReadOnlyList<string> command, params string[] extraArguments) =>
        [.. command.Select(a => a.Replace("/app/", _publishDirectory + "/", StringComparison.Ordinal)), .. extraArguments];

    /// <summary>Starts the ENTRYPOINT with <paramref name="environment"/>.</summary>
    public RunningApp Start(Dictionary<string, string> environment, params string[] extraArguments) =>
        RunningApp.Start(Command(Definition.Entrypoint, extraArguments), _publishDirectory, environment);

    /// <summary>Runs a command as the container would (same working directory and environment) and waits for its end.</summary>
    public Task<(int ExitCode, string Output)> RunToEndAsync(string[] command, Dictionary<string, string> environment, string? input = null) =>
        RunToEndAsync(command[0], command[1..], _publishDirectory, environment, TimeSpan.FromMinutes(1), input);

    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    internal static ProcessStartInfo StartInfo(string file, IEnumerable<string> arguments, string directory, Dictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        if (environment is not null)
        {
            foreach (var key in start.Environment.Keys.ToList())
            {
                if (key.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase)
                    || key.StartsWith("PortDashboard__", StringComparison.OrdinalIgnoreCase)
                    || key.Equals("DOTNET_ENVIRONMENT", StringComparison.OrdinalIgnoreCase)
                    || key.Equals("URLS", StringComparison.OrdinalIgnoreCase))
                {
                    start.Environment.Remove(key);
                }
            }

            foreach (var (key, value) in environment)
            {
                start.Environment[key] = value;
            }
        }

        return start;
    }

    private static async Task<(int ExitCode, string Output)> RunToEndAsync(
        string file, IEnumerable<string> arguments, string directory, Dictionary<string, string>? environment, TimeSpan timeout, string? input = null)
    {
        using var process = Process.Start(StartInfo(file, arguments, directory, environment))
            ?? throw new InvalidOperationException($"{file} did not start");
        var output = new ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => output.Enqueue(e.Data ?? "");
        process.ErrorDataReceived += (_, e) => output.Enqueue(e.Data ?? "");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (input is not null)
        {
            await process.StandardInput.WriteLineAsync(input);
        }

        process.StandardInput.Close();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish within {timeout}");
        }

        return (process.ExitCode, string.Join('\n', output));
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
}

/// <summary>A started app process: its output is kept; it is killed on dispose.</summary>
public sealed class RunningApp : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> _output = new();
    private int _disposed;

    private RunningApp(Process process) => Process = process;

    public Process Process { get; }

    public string Output => string.Join('\n', _output);

    public static RunningApp Start(string[] command, string directory, Dictionary<string, string> environment)
    {
        var process = Process.Start(ContainerRun.StartInfo(command[0], command[1..], directory, environment))
            ?? throw new InvalidOperationException($"{command[0]} did not start");
        var app = new RunningApp(process);
        process.OutputDataReceived += (_, e) => app.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => app.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        return app;
    }

    /// <summary>Waits until <paramref name="url"/> answers 200, failing early if the process exits.</summary>
    public async Task WaitUntilHealthyAsync(Uri url, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (Process.HasExited)
            {
                throw new InvalidOperationException($"the app exited with {Process.ExitCode} before it was healthy:\n{Output}");
            }

            try
            {
                using var response = await http.GetAsync(url);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // not listening yet
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{url} did not answer 200 within {timeout}:\n{Output}");
            }

            await Task.Delay(100); // polling interval of a condition with a deadline
        }
    }

    /// <summary>Kills the process (as a crash or a container stop would) and waits for it; safe to call twice.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            await Process.WaitForExitAsync();
        }

        Process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }
}
