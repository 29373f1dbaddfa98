using System.Net;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Reading.Namespaces;
using PortDashboard.Core.Sockets;
using PortDashboard.Testing;

namespace PortDashboard.Core.Tests.Reading.Namespaces;

/// <summary>
/// Real network namespaces (<c>ip netns add pd-netns-*-PID</c>, <c>lo</c> up; root): two with the same listener
/// (127.0.0.1:80) and connections opened inside by a thread that joined them, one of them also with a python3 process
/// inside (<c>ip netns exec</c>) holding a listener, a connection and a UDP socket. Each reader kind must find every
/// namespace, tag its sockets, and agree with <c>ip netns exec NS ss -tunaH</c>. The namespaces are deleted at the end,
/// also when a test fails, and leftovers of a killed run of this prefix first.
/// </summary>
public sealed class NamespaceLiveTests : IAsyncLifetime
{
    private const string Prefix = "pd-netns";

    private NetworkNamespace _a = default!;
    private NetworkNamespace _b = default!;
    private System.Diagnostics.Process _helper = default!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() && Environment.UserName == "root", "network namespaces need Linux and root (ip netns add, setns)");
        _a = await NetworkNamespace.CreateAsync(Prefix, "a");
        _b = await NetworkNamespace.CreateAsync(Prefix, "b");
        _a.Listen(IPAddress.Loopback, 80, connections: 2);
        _b.Listen(IPAddress.Loopback, 80, connections: 1);
        _a.BindUdp(5353);
        _helper = await _a.StartProcessAsync(8081, 5354);
    }

    public static TheoryData<NamespaceReaderKind> Kinds => [NamespaceReaderKind.Netlink, NamespaceReaderKind.ProcNet, NamespaceReaderKind.Auto];

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Every_namespaces_sockets_appear_tagged_and_agree_with_ss_inside_it(NamespaceReaderKind kind)
    {
        using var reader = new NamespacedReader(SocketTableReaders.CreateDefault("/proc"), new NetworkNamespaces("/proc"), kind);
        var snapshot = new Snapshotter(reader, new SnapshotterOptions()).Take(Ct);

        foreach (var ns in (NetworkNamespace[])[_a, _b])
        {
            var ours = snapshot.Sockets.Where(s => s.Namespace.Name == ns.Name).ToList();
            var ss = await ns.SocketTableAsync();
            Assert.Equal(
                ss.Select(r => $"{r.Protocol} {r.Local} {r.Remote}").Order(StringComparer.Ordinal),
                ours.Select(s => $"{Proto(s)} {Text(s.Local)} {Text(s.Remote)}").Order(StringComparer.Ordinal));
            Assert.All(ours, s => Assert.False(s.Namespace.IsHost));
            Assert.Single(ours.Select(s => s.Namespace).Distinct());
            Assert.True(ours.First().Namespace.Inode > 0);
        }

        // The same listener in two namespaces: two sockets, two keys, each found by its own.
        var listeners = snapshot.Sockets.Where(s => s.State == SocketState.Listen && s.Local.Port == 80 && !s.Namespace.IsHost).ToList();
        Assert.True(listeners.Count >= 2, $"expected the 127.0.0.1:80 listeners of {_a.Name} and {_b.Name}: {string.Join(", ", listeners)}");
        Assert.Equal(listeners.Count, listeners.Select(s => s.Key).Distinct().Count());
        Assert.All(listeners, s => Assert.True(snapshot.TryGet(s.Key, out var found) && ReferenceEquals(found, s)));
        Assert.DoesNotContain(snapshot.Sockets, s => s.Namespace.IsHost && s.Namespace.Inode == 0);

        // The helper's listener in a: attributed to its process, found in a by its /run/netns name.
        var helperListener = Assert.Single(snapshot.Sockets, s => s.Namespace.Name == _a.Name && s.Local.Port == 8081 && s.State == SocketState.Listen);
        Assert.Contains(helperListener.Owners, o => o.Pid == _helper.Id);

        // tcp_info comes with sock_diag only: a is read the kind's way.
        var established = snapshot.Sockets.Where(s => s.Namespace.Name == _a.Name && s.State == SocketState.Established).ToList();
        Assert.NotEmpty(established);
        var expectedReader = kind == NamespaceReaderKind.ProcNet ? null : "netlink";
        Assert.All(established, s => Assert.Equal(expectedReader is not null, s.Tcp is not null));
        var readOfA = Assert.Single(reader.LastNamespaces, n => n.Namespace.Name == _a.Name);
        Assert.Null(readOfA.Error);
        Assert.Equal(expectedReader ?? "proc-net", readOfA.Reader);
        // b has no process: only sock_diag from inside can read it, whatever the kind.
        Assert.Equal("netlink", Assert.Single(reader.LastNamespaces, n => n.Namespace.Name == _b.Name).Reader);
    }

    [Fact]
    public async Task A_namespace_deleted_between_two_reads_leaves_the_table_and_nothing_fails()
    {
        await using var c = await NetworkNamespace.CreateAsync(Prefix, "c");
        c.Listen(IPAddress.Loopback, 9000, connections: 1);
        using var reader = new NamespacedReader(SocketTableReaders.CreateDefault("/proc"), new NetworkNamespaces("/proc"));
        var snapshotter = new Snapshotter(reader, new SnapshotterOptions());
        var before = snapshotter.Take(Ct);
        Assert.Equal(3, before.Sockets.Count(s => s.Namespace.Name == c.Name));

        await c.DisposeAsync();
        var after = snapshotter.Take(Ct);

        Assert.DoesNotContain(after.Sockets, s => s.Namespace.Name == c.Name);
        Assert.DoesNotContain(reader.LastNamespaces, n => n.Namespace.Name == c.Name);
        Assert.Contains(after.Sockets, s => s.Namespace.Name == _a.Name);
    }

    private static string Proto(Socket socket) => socket.Protocol == TransportProtocol.Tcp ? "tcp" : "udp";

    /// <summary>As <see cref="NetworkNamespace.Endpoint"/> writes ss's: <c>*</c> for any address, 0 for no port.</summary>
    private static string Text(Endpoint endpoint) =>
        $"{(endpoint.Address.IsWildcard ? "*" : endpoint.Address.ToString())}:{endpoint.Port}";

    public async ValueTask DisposeAsync()
    {
        if (_a is not null)
        {
            await _a.DisposeAsync();
        }

        if (_b is not null)
        {
            await _b.DisposeAsync();
        }
    }
}
