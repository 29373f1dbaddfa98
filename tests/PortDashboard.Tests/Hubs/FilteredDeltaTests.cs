using PortDashboard.Api;
using PortDashboard.Core.Filtering;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;
using PortDashboard.Hubs;
using static PortDashboard.Tests.Support.TestSockets;

namespace PortDashboard.Tests.Hubs;

public sealed class FilteredDeltaTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly WireMapper Mapper = new(ServiceNameRegistry.Empty, showCommandLine: false);

    // Filter: established sockets only, so a state change moves a socket into or out of the view.
    private static readonly Filter Established = Filter.Parse("state=established");

    private static (Snapshot Before, Snapshot After, Delta Delta) Step(Snapshot before, long sequence, params Socket[] after)
    {
        var next = SnapshotOf(before.TakenAt.AddSeconds(1), after);
        return (before, next, NumberedDelta(sequence, before, next));
    }

    [Fact]
    public void A_changed_socket_that_stops_matching_is_removed_and_one_that_starts_matching_is_added()
    {
        var leaving = Connection(40001, 80, inode: 1);
        var joining = Connection(40002, 80, inode: 2, SocketState.SynSent);
        var staying = Connection(40003, 80, inode: 3);
        var elsewhere = Listener(80, inode: 4);
        var before = SnapshotOf(Start, leaving, joining, staying, elsewhere);
        var (_, after, delta) = Step(before, 7,
            leaving.WithState(SocketState.FinWait1),
            joining.WithState(SocketState.Established),
            staying.WithOwners([new ProcessInfo(42, 1, "curl", 0, "root")]),
            elsewhere.WithState(SocketState.Close));

        var message = FilteredDelta.ToMessage([delta], after, Established, Mapper);

        Assert.Equal((7L, 7L), (message.FromSequence, message.ToSequence));
        Assert.Equal([WireMapper.Id(leaving.Key)], message.Removed);
        Assert.Equal([WireMapper.Id(joining.Key)], message.Added.Select(s => s.Id));
        Assert.Equal("established", Assert.Single(message.Added).State);
        var changed = Assert.Single(message.Changed);
        Assert.Equal(WireMapper.Id(staying.Key), changed.Id);
        Assert.Equal("curl", Assert.Single(changed.Owners).Name);
        Assert.Equal(after.TakenAt, message.TakenAt);
    }

    [Fact]
    public void Sockets_outside_the_filter_are_never_sent_and_an_empty_result_still_carries_its_sequences()
    {
        var before = SnapshotOf(Start);
        var (_, after, delta) = Step(before, 3, Listener(80, inode: 1), Listener(443, inode: 2));

        var message = FilteredDelta.ToMessage([delta], after, Established, Mapper);

        Assert.Empty(message.Added);
        Assert.Empty(message.Removed);
        Assert.Empty(message.Changed);
        Assert.Equal((3L, 3L), (message.FromSequence, message.ToSequence));
    }

    [Fact]
    public void A_batch_is_folded_into_its_net_change()
    {
        var brief = Connection(40001, 80, inode: 1);
        var steady = Connection(40002, 80, inode: 2);
        var gone = Connection(40003, 80, inode: 3);
        var s0 = SnapshotOf(Start, steady, gone);
        var (_, s1, d1) = Step(s0, 10, steady, gone, brief);                                  // brief appears
        var (_, s2, d2) = Step(s1, 11, steady.WithState(SocketState.CloseWait), brief);        // steady leaves the view, gone is removed
        var (_, s3, d3) = Step(s2, 12, steady.WithState(SocketState.Established));             // steady is back, brief is removed

        var message = FilteredDelta.ToMessage([d1, d2, d3], s3, Established, Mapper);

        Assert.Equal((10L, 12L), (message.FromSequence, message.ToSequence));
        Assert.Empty(message.Added); // brief came and went within the batch
        Assert.Equal([WireMapper.Id(gone.Key)], message.Removed);
        Assert.Equal([WireMapper.Id(steady.Key)], message.Changed.Select(s => s.Id)); // left and came back: the client still has it
    }

    [Fact]
    public void The_wire_shape_of_a_socket_carries_both_port_classifications_and_a_stable_id()
    {
        var services = LoadServices("https 443/tcp\nssh 22/tcp\n");
        var mapper = new WireMapper(services, showCommandLine: false);
        var owner = new ProcessInfo(42, 7, "nginx", 33, "www-data") { CommandLine = "nginx -g daemon off; --secret" };
        var socket = Connection(443, 40000, inode: 99, SocketState.Established, owner);

        var dto = mapper.Socket(socket, OsPortPolicy.LinuxDefault);

        Assert.Equal("tcp/127.0.0.1:443/127.0.0.1:40000/99", dto.Id);
        Assert.Equal(("tcp", "ipv4", "established"), (dto.Protocol, dto.Family, dto.State));
        Assert.Equal(new EndpointDto("127.0.0.1", 443, "wellknown", false, true, "https"), dto.Local);
        Assert.Equal(new EndpointDto("127.0.0.1", 40000, "registered", true, false, null), dto.Remote);
        Assert.Equal(new OwnerDto(42, "nginx", "www-data", null), Assert.Single(dto.Owners));
        Assert.Equal("nginx -g daemon off; --secret", new WireMapper(services, showCommandLine: true).Socket(socket, OsPortPolicy.LinuxDefault).Owners[0].CommandLine);

        var listener = mapper.Socket(Listener(22, inode: 5), OsPortPolicy.LinuxDefault);
        Assert.Equal(new EndpointDto("*", 0, null, false, false, null), listener.Remote);
        Assert.Equal("tcp/127.0.0.1:22/*:*/5", listener.Id);
    }

    private static ServiceNameRegistry LoadServices(string text)
    {
        var path = Path.Combine(Path.GetTempPath(), $"services-{Guid.NewGuid():N}");
        File.WriteAllText(path, text);
        try
        {
            return ServiceNameRegistry.Load(path);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
