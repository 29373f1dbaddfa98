using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Tests.Support;

namespace PortDashboard.Core.Tests.Reading;

/// <summary>
/// The process name shown: the kernel's <c>comm</c>, or the executable's whole name when <c>comm</c> was cut at 15
/// characters; over proc trees built at test time and over a real child process started under a long name.
/// </summary>
public sealed class ProcessNameTests : IDisposable
{
    private const string LongName = "PortDashboard.Example";
    private const string CutName = "PortDashboard.E";

    private readonly FakeProcTree _tree = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _tree.Dispose();

    private string NameOf(int pid, bool includeCommandLine = false)
    {
        var attribution = new ProcessResolver(_tree.Root, new UserNames(_tree.PathOf("no-passwd")), includeCommandLine).Resolve(cancellationToken: Ct);
        return attribution.OwnersByInode.Values.SelectMany(owners => owners).Single(p => p.Pid == pid).Name;
    }

    private void AddProcess(int pid, string comm, string? exe, string? cmdline)
    {
        _tree.AddProcess(pid, comm).AddSocket(pid, 3, 5000 + pid);
        if (exe is not null)
        {
            File.CreateSymbolicLink(_tree.PathOf(pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "exe"), exe);
        }

        if (cmdline is not null)
        {
            _tree.WriteFile($"{pid}/cmdline", cmdline);
        }
    }

    [Theory]
    [InlineData("the exe link", "/usr/lib/portdashboard/" + LongName, "/usr/bin/something-else\0--x\0", LongName)]
    [InlineData("a deleted executable", "/opt/app/" + LongName + " (deleted)", null, LongName)]
    [InlineData("argv[0] when the exe link is missing (another user's process)", null, "/opt/app/" + LongName + "\0--token=secret\0", LongName)]
    [InlineData("argv[0] without a path", null, LongName + "\0--token=secret\0", LongName)]
    [InlineData("argv[0] of a command line rewritten as one string, cut at its first space", null, LongName + ": worker --token=secret", LongName + ":")]
    [InlineData("comm when the exe name does not start with it", "/usr/bin/bash", "bash\0-c\0", CutName)]
    [InlineData("comm when argv[0] does not start with it", null, "/usr/bin/other-name-of-some-length\0", CutName)]
    [InlineData("comm when neither exe nor cmdline can be read", null, null, CutName)]
    [InlineData("comm when the exe name is comm itself", "/usr/bin/" + CutName, null, CutName)]
    public void A_comm_cut_at_15_characters_shows_the_executables_whole_name_when_comm_is_its_prefix(string source, string? exe, string? cmdline, string expected)
    {
        AddProcess(100, CutName, exe, cmdline);

        Assert.True(expected == NameOf(100), $"from {source}: expected {expected}, got {NameOf(100)}");
    }

    [Theory]
    [InlineData("dotnet", "/usr/share/dotnet/dotnet", "dotnet\0/srv/app/PortDashboard.Example.dll\0")]
    [InlineData("worker", "/usr/bin/worker-with-a-long-name", "worker-with-a-long-name\0")] // set with prctl: kept as given
    public void A_comm_shorter_than_15_characters_is_whole_and_kept(string comm, string exe, string cmdline)
    {
        AddProcess(100, comm, exe, cmdline);

        Assert.Equal(comm, NameOf(100));
    }

    [Fact]
    public void The_arguments_never_show_in_the_name_and_the_command_line_only_when_asked_for()
    {
        AddProcess(100, CutName, exe: null, cmdline: "/opt/app/" + LongName + "\0--token=secret\0");

        var without = new ProcessResolver(_tree.Root).Resolve(cancellationToken: Ct).OwnersByInode[5100][0];
        var with = new ProcessResolver(_tree.Root, includeCommandLine: true).Resolve(cancellationToken: Ct).OwnersByInode[5100][0];

        Assert.Equal((LongName, null), (without.Name, without.CommandLine));
        Assert.Equal((LongName, "/opt/app/" + LongName + " --token=secret"), (with.Name, with.CommandLine));
    }

    [Fact]
    public void The_executable_is_read_once_per_process_not_once_per_scan()
    {
        AddProcess(100, CutName, "/opt/app/" + LongName, cmdline: null);
        var resolver = new ProcessResolver(_tree.Root);
        var first = resolver.Resolve(cancellationToken: Ct).OwnersByInode[5100][0];
        File.Delete(_tree.PathOf("100", "exe"));
        File.CreateSymbolicLink(_tree.PathOf("100", "exe"), "/opt/app/" + CutName + "-renamed-since");

        var second = resolver.Resolve(cancellationToken: Ct).OwnersByInode[5100][0];

        Assert.Same(first, second);
        Assert.Equal(LongName, second.Name);
    }

    [Theory]
    [InlineData("/usr/bin/PortDashboard.Example", "PortDashboard.Example")]
    [InlineData("/usr/bin/app (deleted)", "app")]
    [InlineData("app", "app")]
    [InlineData("/", "")]
    public void The_executables_name_is_the_last_path_component_of_the_exe_link(string target, string expected) =>
        Assert.Equal(expected, Encoding.UTF8.GetString(ProcessResolver.ExecutableBaseName(Encoding.UTF8.GetBytes(target))));

    [Fact]
    public async Task A_real_process_started_under_a_long_name_shows_that_name_though_the_kernel_cut_its_comm()
    {
        using var directory = new TemporaryDirectory();
        var executable = Path.Combine(directory.Path, "portdashboard-names-test-shell");
        File.Copy("/bin/bash", executable);
        // File.Copy keeps the mode bits, so the copy is executable as bash is.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var child = Process.Start(new ProcessStartInfo(executable, ["-c", $"exec 3<>/dev/tcp/127.0.0.1/{port}; read -t 60 <&3"])
        {
            RedirectStandardInput = true,
        })!;
        try
        {
            using var accepted = await listener.AcceptSocketAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(30), Ct);
            var comm = File.ReadAllText($"/proc/{child.Id}/comm").TrimEnd('\n');

            var owners = new ProcessResolver("/proc").Resolve(cancellationToken: Ct).OwnersByInode.Values.SelectMany(o => o);

            Assert.Equal("portdashboard-n", comm);
            Assert.Equal("portdashboard-names-test-shell", owners.First(p => p.Pid == child.Id).Name);
        }
        finally
        {
            child.Kill();
            await child.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        }
    }

    private sealed class TemporaryDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("portdashboard-names-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
