using PortDashboard.Core.Reading;
using PortDashboard.Core.Reading.Namespaces;
using PortDashboard.Core.Tests.Support;

namespace PortDashboard.Core.Tests.Reading.Namespaces;

/// <summary>
/// Container names from <c>/proc/&lt;pid&gt;/cgroup</c>, one checked-in fixture per runtime layout (Fixtures/cgroup),
/// and through the process resolver onto a socket's owner.
/// </summary>
public class ContainerNamesTests
{
    public static TheoryData<string, string?> Fixtures => new()
    {
        { "docker-systemd-v2", "docker:3f2a9c1b7d4e" },
        { "docker-cgroupfs-v1", "docker:a1b2c3d4e5f6" },
        { "containerd-cri-v2", "containerd:0123456789ab" },
        { "kubepods-cgroupfs-v1", "k8s:fedcba987654" },
        { "crio-v2", "crio:999988887777" },
        { "podman-rootless-v2", "podman:5e6f7a8b9c0d" },
        { "podman-conmon-v2", null },           // the monitor beside the container, not the container
        { "systemd-service-v2", "nginx.service" },
        { "user-service-v2", "pipewire.service" },
        { "user-app-scope-v2", null },          // an app scope of a user session: no unit, and user@1000.service is the session's manager
        { "session-scope-v2", null },
        { "root-v2", null },
        { "unknown-v1", null },
        { "hybrid-container-wins", "docker:3f2a9c1b7d4e" }, // v1 lines say containerd.service; the v2 line's container wins
        { "empty", null },
        { "malformed", null },
    };

    private static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "cgroup", name);

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Each_runtime_layout_names_its_container(string fixture, string? expected)
    {
        Assert.Equal(expected, ContainerNames.FromCgroupFile(File.ReadAllBytes(FixturePath(fixture))));
    }

    [Theory]
    [InlineData("/docker/3f2a9c1b7d4e", null)] // a short id is not an id
    [InlineData("/system.slice/docker-3F2A9C1B7D4E5F60718293A4B5C6D7E8F90112233445566778899AABBCCDDEEF.scope", null)] // ids are lower-case hex
    [InlineData("/system.slice/docker.service", "docker.service")] // the daemon itself is a unit
    [InlineData("/system.slice/.service", null)]
    public void Only_real_container_ids_and_units_are_named(string path, string? expected)
    {
        Assert.Equal(expected, ContainerNames.FromPath(path, out _));
    }

    [Fact]
    public void The_resolver_gives_each_owner_the_container_of_its_cgroup()
    {
        using var proc = new FakeProcTree();
        proc.AddProcess(300, "redis-server").AddSocket(300, 5, 9001);
        proc.AddProcess(301, "nginx").AddSocket(301, 6, 9002);
        proc.AddProcess(302, "bash").AddSocket(302, 7, 9003); // no cgroup file: no container, no error
        File.Copy(FixturePath("docker-systemd-v2"), proc.PathOf("300", "cgroup"));
        File.Copy(FixturePath("systemd-service-v2"), proc.PathOf("301", "cgroup"));

        var resolver = new ProcessResolver(proc.Root);
        var owners = resolver.Resolve(new HashSet<long> { 9001, 9002, 9003 }, TestContext.Current.CancellationToken).OwnersByInode;

        Assert.Equal("docker:3f2a9c1b7d4e", Assert.Single(owners[9001]).Container);
        Assert.Equal("nginx.service", Assert.Single(owners[9002]).Container);
        Assert.Null(Assert.Single(owners[9003]).Container);
    }
}
