namespace PortDashboard.Tests.Insight.Support;

/// <summary>Where the repository is, from the test binaries.</summary>
public static class Repository
{
    public static string Root { get; } = Find();

    private static string Find()
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
