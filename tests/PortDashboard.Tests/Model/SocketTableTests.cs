using PortDashboard.Core.Filtering;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;
using PortDashboard.Model;
using PortDashboard.Monitoring;
using static PortDashboard.Tests.Components.Support.TestSockets;

namespace PortDashboard.Tests.Model;

public sealed class SocketTableTests
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly ServiceNameRegistry NoNames = ServiceNameRegistry.Empty;

    private readonly Core.Sockets.Socket _ssh = Listener("0.0.0.0:22");
    private readonly Core.Sockets.Socket _client = Tcp("10.0.0.5:51000", "10.0.0.9:443", SocketState.Established);
    private readonly Core.Sockets.Socket _dns = Udp("10.0.0.5:40001", "10.0.0.1:53");

    [Fact]
    public void The_feed_placeholder_is_no_data_and_the_first_real_delta_fills_the_table_without_highlights()
    {
        var table = new SocketTable();
        table.Apply(new FeedBatch(Core.Sockets.Snapshot.Empty, [], IsResync: true, 0), T0);
        Assert.False(table.HasData);

        var first = Snapshot(T0, _ssh, _client);
        var delta = Core.Sockets.Delta.Between(Core.Sockets.Snapshot.Empty, first) with { Sequence = 1 };
        table.Apply(new FeedBatch(first, [delta], IsResync: false, 1), T0);

        Assert.True(table.HasData);
        Assert.Equal(2, table.RowCount);
        Assert.All(Rows(table), row => Assert.Equal(RowStatus.Steady, row.Status));
        Assert.All(Rows(table), row => Assert.True(row.SeenAtStart));
        Assert.Equal(1, table.Sequence);
    }

    [Fact]
    public void Deltas_highlight_new_changed_and_removed_rows_until_they_expire()
    {
        var table = Started(_ssh, _client);
        var changed = _client.With(SocketState.CloseWait);

        table.ApplyDelta(Delta(1, added: [_dns], removed: [_ssh], changed: [(_client, changed)]), T0.AddSeconds(1));

        Assert.Equal(RowStatus.New, Row(table, _dns).Status);
        Assert.Equal(RowStatus.Changed, Row(table, _client).Status);
        Assert.Same(changed, Row(table, _client).Socket);
        Assert.Equal(RowStatus.Removed, Row(table, _ssh).Status);
        Assert.Equal(3, table.RowCount);
        Assert.Equal(2, table.Summary.Total); // a closed row still shown is not an open socket

        Assert.False(table.Expire(T0.AddSeconds(3.999)));
        Assert.True(table.Expire(T0.AddSeconds(4)));

        Assert.Equal(2, table.RowCount);
        Assert.False(table.TryGetRow(_ssh.Key, out _));
        Assert.All(Rows(table), row => Assert.Equal(RowStatus.Steady, row.Status));
    }

    [Fact]
    public void A_socket_reopened_while_its_closed_row_shows_is_a_new_row_that_outlives_the_old_expiry()
    {
        var table = Started(_ssh);
        table.ApplyDelta(Delta(1, removed: [_ssh]), T0);
        table.ApplyDelta(Delta(2, added: [_ssh]), T0.AddSeconds(2));

        Assert.Equal(RowStatus.New, Row(table, _ssh).Status);
        table.Expire(T0.AddSeconds(3)); // the closed row's expiry must not drop the new row
        Assert.Equal(RowStatus.New, Row(table, _ssh).Status);
        table.Expire(T0.AddSeconds(5));
        Assert.Equal(RowStatus.Steady, Row(table, _ssh).Status);
    }

    [Fact]
    public void A_new_row_that_changes_stays_new()
    {
        var table = Started(_ssh);
        var syn = Tcp("10.0.0.5:52000", "10.0.0.9:443", SocketState.SynSent);
        table.ApplyDelta(Delta(1, added: [syn]), T0);
        table.ApplyDelta(Delta(2, changed: [(syn, syn.With(SocketState.Established))]), T0.AddSeconds(1));

        Assert.Equal(RowStatus.New, Row(table, syn).Status);
        Assert.Equal(SocketState.Established, Row(table, syn).State);
    }

    [Fact]
    public void Deltas_a_resync_already_covers_are_skipped()
    {
        var table = new SocketTable();
        table.Apply(new FeedBatch(Snapshot(T0, _ssh, _dns), [], IsResync: true, 7), T0);

        table.ApplyDelta(Delta(7, added: [_dns]), T0.AddSeconds(1));
        table.ApplyDelta(Delta(6, removed: [_ssh]), T0.AddSeconds(1));

        Assert.Equal(RowStatus.Steady, Row(table, _dns).Status);
        Assert.Equal(RowStatus.Steady, Row(table, _ssh).Status);
        Assert.Equal(7, table.Sequence);
    }

    [Fact]
    public void A_later_resync_keeps_first_seen_times_and_highlights_what_happened_meanwhile()
    {
        var table = Started(_ssh, _client);
        var firstSeen = Row(table, _client).FirstSeen;

        table.Resync(Snapshot(T0.AddMinutes(1), _client.With(SocketState.FinWait1), _dns), 9, T0.AddMinutes(1));

        Assert.Equal(firstSeen, Row(table, _client).FirstSeen);
        Assert.Equal(RowStatus.Changed, Row(table, _client).Status);
        Assert.Equal(RowStatus.New, Row(table, _dns).Status);
        Assert.False(Row(table, _dns).SeenAtStart);
        Assert.Equal(RowStatus.Removed, Row(table, _ssh).Status);
        Assert.Equal(9, table.Sequence);
        Assert.Equal(2, table.Summary.Total);
    }

    [Fact]
    public void Incremental_summary_matches_a_recount()
    {
        var timeWait = Tcp("127.0.0.1:40000", "127.0.0.1:22", SocketState.TimeWait);
        var table = Started(_ssh, _client, timeWait);
        table.ApplyDelta(Delta(1, added: [_dns], removed: [timeWait], changed: [(_client, _client.With(SocketState.CloseWait))]), T0);

        var fresh = new SocketTable();
        fresh.Resync(Snapshot(T0, _ssh, _client.With(SocketState.CloseWait), _dns), 1, T0);

        Assert.Equivalent(fresh.Summary, table.Summary, strict: true);
        Assert.Equal(3, table.Summary.Total);
        Assert.Equal([1, 1, 1], table.Summary.ByRange); // 22; 40001; 51000
        Assert.Equal(2, table.Summary.EphemeralPortsInUse); // 40001 and 51000 lie in 32768–60999
        Assert.Equal(0, table.Summary.TimeWait);
    }

    [Fact]
    public void Two_sockets_on_one_ephemeral_port_count_it_once()
    {
        var a = Tcp("10.0.0.5:51000", "10.0.0.9:443", SocketState.Established);
        var b = Tcp("10.0.0.5:51000", "10.0.0.7:443", SocketState.Established);
        var table = Started(a, b);
        Assert.Equal(1, table.Summary.EphemeralPortsInUse);

        table.ApplyDelta(Delta(1, removed: [a]), T0);
        Assert.Equal(1, table.Summary.EphemeralPortsInUse);
        table.ApplyDelta(Delta(2, removed: [b]), T0);
        Assert.Equal(0, table.Summary.EphemeralPortsInUse);
    }

    [Fact]
    public void The_view_filters_sorts_and_is_reused_until_something_changes()
    {
        var table = Started(_ssh, _client, _dns);
        var notWellKnown = Filter.Parse("range=registered,ephemeral");

        var view = table.View(notWellKnown, new SocketSort(SocketSortColumn.LocalPort, Descending: true), NoNames);
        Assert.Equal([51000, 40001], view.Select(r => r.LocalPort));
        Assert.Same(view, table.View(notWellKnown, new SocketSort(SocketSortColumn.LocalPort, Descending: true), NoNames));

        table.ApplyDelta(Delta(1, removed: [_dns]), T0);
        var after = table.View(notWellKnown, new SocketSort(SocketSortColumn.LocalPort, Descending: true), NoNames);
        Assert.NotSame(view, after);
        Assert.Equal(2, after.Count); // the closed row shows until it expires
    }

    [Fact]
    public void A_slice_of_a_large_view_holds_only_the_rows_asked_for()
    {
        var sockets = Enumerable.Range(0, 100_000)
            .Select(i => Tcp($"10.{i / 65536}.{i / 256 % 256}.{i % 256}:{1024 + (i % 60000)}", "10.255.0.1:443", SocketState.Established))
            .ToArray();
        var table = Started(sockets);

        var view = table.View(Filter.Empty, SocketSort.Default, NoNames);
        var slice = SocketTable.Slice(view, 99_990, 40);

        Assert.Equal(100_000, view.Count);
        Assert.Equal(10, slice.Count);
        Assert.Same(view[99_999], slice[^1]);
        Assert.Empty(SocketTable.Slice(view, 200_000, 40));
    }

    [Fact]
    public void Each_delta_records_one_churn_point()
    {
        var table = Started(_ssh);
        table.Churn.UsePollInterval(TimeSpan.FromSeconds(2));
        table.ApplyDelta(Delta(1, added: [_client, _dns], at: T0.AddSeconds(2)), T0);
        table.ApplyDelta(Delta(2, removed: [_client], at: T0.AddSeconds(4)), T0);

        Assert.Equal(
            [new ChurnPoint(T0.AddSeconds(2), 2, 0, 2), new ChurnPoint(T0.AddSeconds(4), 0, 1, 1)],
            table.Churn.Points);
    }

    private static SocketTable Started(params Core.Sockets.Socket[] sockets)
    {
        var table = new SocketTable();
        table.Resync(Snapshot(T0, sockets), 0, T0);
        return table;
    }

    private static Delta Delta(
        long sequence,
        Core.Sockets.Socket[]? added = null,
        Core.Sockets.Socket[]? removed = null,
        (Core.Sockets.Socket Before, Core.Sockets.Socket After)[]? changed = null,
        DateTimeOffset? at = null) =>
        new(sequence, T0, at ?? T0.AddSeconds(1), [.. added ?? []], [.. removed ?? []],
            [.. (changed ?? []).Select(c => new SocketChange(c.Before, c.After))]);

    private static SocketRow Row(SocketTable table, Core.Sockets.Socket socket) =>
        table.TryGetRow(socket.Key, out var row) ? row : throw new InvalidOperationException($"no row for {socket}");

    private static IEnumerable<SocketRow> Rows(SocketTable table) =>
        table.View(Filter.Empty, SocketSort.Default, NoNames);
}
