using System.Diagnostics;

namespace PortDashboard.EndToEnd.Tests;

/// <summary>
/// The app as a newcomer starts it from a clone (issue 11): the Release build output, not published,
/// <c>dotnet src/PortDashboard/bin/Release/net10.0/PortDashboard.dll</c> from the repository root, in the Production
/// environment. Its static web assets are where the build found them (NuGet packages, the top-level wwwroot/),
/// listed only in the manifest beside the binary. Its logs and history go to a temporary directory.
/// </summary>
public sealed class UnpublishedApp : PublishedApp
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(10);

    private readonly string _scratch = Path.Combine(Path.GetTempPath(), $"portdashboard-e2e-unpublished-{Guid.NewGuid():N}");

    public static string BuildOutput { get; } = Path.Combine(RepositoryRoot, "src", "PortDashboard", "bin", "Release", "net10.0");

    protected override async Task<(string Dll, string WorkingDirectory)> PrepareAsync()
    {
        var dll = Path.Combine(BuildOutput, "PortDashboard.dll");
        if (!File.Exists(dll) || !File.Exists(Path.Combine(BuildOutput, "PortDashboard.staticwebassets.runtime.json")))
        {
            // The test project builds the app as a project reference; a Debug test run has not built Release.
            await RunDotnetAsync(["build", Path.Combine(RepositoryRoot, "src", "PortDashboard"), "-c", "Release", "-nologo"], BuildTimeout);
        }

        Directory.CreateDirectory(_scratch);
        return (dll, RepositoryRoot);
    }

    protected override void Configure(ProcessStartInfo start)
    {
        ArgumentNullException.ThrowIfNull(start);
        start.Environment["PortDashboard__History__Path"] = Path.Combine(_scratch, "history.db");
        start.Environment["Serilog__WriteTo__File__Args__path"] = Path.Combine(_scratch, "portdashboard-.log");
    }

    protected override void CleanUp()
    {
        try
        {
            Directory.Delete(_scratch, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
