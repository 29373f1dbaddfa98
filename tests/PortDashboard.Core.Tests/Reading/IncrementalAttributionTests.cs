using System.Collections.Immutable;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Sockets;
using PortDashboard.Core.Tests.Support;

namespace PortDashboard.Core.Tests.Reading;

/// <summary>
/// Incremental attribution over a proc tree built at test time: after every change to the tree its answer (owners and
/// status) equals a fresh full scan's, and it reads only what changed.
/// </summary>
public sealed class IncrementalAttributionTests : IDisposable
{
    private readonly FakeProcTree _tree = new();
    private readonly HashSet<long> _table = [];

    public IncrementalAttributionTests()
    {
        Resolver = new ProcessResolver(_tree.Root, Names);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private UserNames Names => new(_tree.PathOf("no-passwd"));

    private ProcessResolver Resolver { get; }

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void After_every_kind_of_change_the_incremental_answer_equals_a_full_scan()
    {
        _tree.AddProcess(100, "master", startTime: 10).AddSocket(100, 3, 5000).AddSocket(100, 4, 5001);
        _tree.AddProcess(200, "worker", startTime: 20).AddSocket(200, 3, 5001).AddDescriptor(200, 4, "/dev/null");
        _tree.AddProcess(300, "idle", startTime: 30).AddDescriptor(300, 0, "pipe:[77]");
        Table(5000, 5001);
        var first = AssertSameAsFullScan("the first call");
        Assert.True(Resolver.LastScan.Full, "the first call has nothing to start from");

        _tree.AddSocket(200, 5, 6000);
        Table(5000, 5001, 6000);
        AssertSameAsFullScan("a new socket in a known process");

        _tree.AddProcess(400, "child", startTime: 40).AddSocket(400, 3, 5000).AddSocket(400, 4, 6000);
        AssertSameAsFullScan("a new process inheriting known sockets");

        File.Delete(_tree.PathOf("100", "fd", "4"));
        Table(5000, 6000);
        AssertSameAsFullScan("a socket closed");

        File.Delete(_tree.PathOf("200", "fd", "5"));
        _tree.AddSocket(200, 5, 6001); // the freed descriptor number, reused by a new socket
        Table(5000, 6000, 6001);
        AssertSameAsFullScan("a descriptor number reused");

        Directory.Delete(_tree.PathOf("400"), recursive: true);
        AssertSameAsFullScan("a process that exited, leaving a shared socket to its parent");

        _tree.AddProcess(500, "lonely", startTime: 50).AddSocket(500, 3, 7000);
        Table(5000, 6000, 6001, 7000);
        AssertSameAsFullScan("a new process with a new socket");
        Directory.Delete(_tree.PathOf("500"), recursive: true);
        AssertSameAsFullScan("its only owner exited while the socket lingers in the table");

        ReplaceProcess(300, "reborn", startTime: 99, inode: 7001);
        Table(5000, 6000, 6001, 7000, 7001);
        AssertSameAsFullScan("another process took a pid");

        Table(5000, 6000, 6001, 7000, 7001, 8000);
        AssertSameAsFullScan("a socket no process holds");

        // As systemd hands a socket it holds (pid 1, unreadable) to a service it starts.
        _tree.AddProcess(600, "activated", startTime: 60).AddSocket(600, 3, 8000);
        AssertSameAsFullScan("the socket no readable process held, now held by a new process");

        Assert.False(Resolver.LastScan.Full, "only the first call was a full scan");
        Assert.Equal(first.Status, AttributionStatus.FromScan(3, 0, 0, null));
    }

    [Fact]
    public void A_new_socket_of_a_recent_owner_is_found_at_its_freed_descriptor_without_listing_any_process()
    {
        for (var pid = 100; pid < 120; pid++)
        {
            _tree.AddProcess(pid, startTime: (ulong)pid);
            for (var fd = 3; fd < 13; fd++)
            {
                _tree.AddSocket(pid, fd, (pid * 100) + fd);
            }
        }

        Table([.. Enumerable.Range(100, 20).SelectMany(pid => Enumerable.Range(3, 10).Select(fd => (long)((pid * 100) + fd)))]);
        var listed = new List<int>();
        Resolver.BeforeProcessScan = listed.Add;
        Resolver.ResolveIncrementally(_table, cancellationToken: Ct);

        File.Delete(_tree.PathOf("107", "fd", "5"));
        _table.Remove(10705);
        _tree.AddSocket(107, 5, 99_000);
        _table.Add(99_000);
        listed.Clear();
        var attribution = Resolver.ResolveIncrementally(_table, cancellationToken: Ct);

        Assert.Equal([107], attribution.OwnersByInode[99_000].Select(p => p.Pid));
        Assert.Empty(listed);
        Assert.Equal(new AttributionScan(Full: false, ProcessesRead: 1, DescriptorsRead: 1, SocketsSought: 1), Resolver.LastScan);
        AssertSameAsFullScan("after the probe");
    }

    [Fact]
    public void A_descriptor_found_closed_stays_a_free_slot_where_the_next_new_socket_is_looked_for_first()
    {
        _tree.AddProcess(100).AddSocket(100, 3, 5000).AddSocket(100, 4, 5001).AddSocket(100, 5, 5002);
        _tree.AddProcess(200).AddSocket(200, 3, 6000);
        Table(5000, 5001, 5002, 6000);
        Resolver.ResolveIncrementally(_table, cancellationToken: Ct);

        // Socket 5001 closes; a new socket elsewhere makes the resolver probe, and it finds descriptor 4 closed.
        File.Delete(_tree.PathOf("100", "fd", "4"));
        _tree.AddSocket(200, 4, 6001);
        Table(5000, 5002, 6000, 6001);
        AssertSameAsFullScan("a socket closed and another opened elsewhere");

        // The next socket of process 100 takes descriptor 4, the lowest free one.
        _tree.AddSocket(100, 4, 5003);
        Table(5000, 5002, 5003, 6000, 6001);
        AssertSameAsFullScan("a socket opened at the free slot");

        Assert.Equal(new AttributionScan(Full: false, ProcessesRead: 1, DescriptorsRead: 1, SocketsSought: 1), Resolver.LastScan);
    }

    [Fact]
    public void A_socket_opened_after_the_dump_at_a_freed_descriptor_is_looked_for_there_at_the_next_call()
    {
        _tree.AddProcess(100).AddSocket(100, 3, 5000).AddSocket(100, 4, 5001).AddSocket(100, 5, 5002);
        Table(5000, 5001, 5002);
        Resolver.ResolveIncrementally(_table, cancellationToken: Ct);

        // Socket 5001 closed and a new one (6000, above the highest descriptor) was in the dump; socket 5003 took the
        // freed descriptor 4 after the dump, so the probe of descriptor 4 finds a socket the table does not list.
        File.Delete(_tree.PathOf("100", "fd", "4"));
        _tree.AddSocket(100, 6, 6000);
        _tree.AddSocket(100, 4, 5003);
        Table(5000, 5002, 6000);
        AssertSameAsFullScan("a socket opened after the dump");
        Assert.Equal(new AttributionScan(Full: false, ProcessesRead: 2, DescriptorsRead: 2, SocketsSought: 1), Resolver.LastScan);

        // Next call: 5003 is in the table. Descriptor 4 is read first, and nothing is listed.
        Table(5000, 5002, 5003, 6000);
        AssertSameAsFullScan("the socket in the next dump");
        Assert.Equal(new AttributionScan(Full: false, ProcessesRead: 1, DescriptorsRead: 1, SocketsSought: 1), Resolver.LastScan);
    }

    [Fact]
    public void A_socket_the_table_never_lists_is_read_again_once_then_left_out_of_the_probes()
    {
        _tree.AddProcess(100).AddSocket(100, 3, 5000).AddSocket(100, 4, 5001).AddSocket(100, 5, 5002);
        Table(5000, 5001, 5002);
        Resolver.ResolveIncrementally(_table, cancellationToken: Ct);

        // Descriptor 4 now holds a Unix socket (never in the TCP/UDP table); new sockets keep the probes going.
        File.Delete(_tree.PathOf("100", "fd", "4"));
        _tree.AddSocket(100, 4, 9001).AddSocket(100, 6, 6000);
        Table(5000, 5002, 6000);
        AssertSameAsFullScan("a Unix socket at a freed descriptor");

        _tree.AddSocket(100, 7, 6001);
        Table(5000, 5002, 6000, 6001);
        AssertSameAsFullScan("read again: still not in the table, so dropped from the map");
        Assert.Equal(new AttributionScan(Full: false, ProcessesRead: 2, DescriptorsRead: 2, SocketsSought: 1), Resolver.LastScan);

        _tree.AddSocket(100, 8, 6002);
        Table(5000, 5002, 6000, 6001, 6002);
        AssertSameAsFullScan("descriptor 4 is no longer probed");
        Assert.Equal(new AttributionScan(Full: false, ProcessesRead: 1, DescriptorsRead: 1, SocketsSought: 1), Resolver.LastScan);
    }

    [Fact]
    public void A_number_missing_from_a_listing_is_a_free_slot_where_a_new_socket_is_looked_for_first()
    {
        // Descriptor 5 was free when the process was read (closed before, never seen holding a socket).
        _tree.AddProcess(100).AddSocket(100, 3, 5000).AddSocket(100, 4, 5001).AddSocket(100, 6, 5002).AddDescriptor(100, 7, "/var/log/app.log");
        _tree.AddProcess(200).AddSocket(200, 3, 6000);
        Table(5000, 5001, 5002, 6000);
        var listed = new List<int>();
        Resolver.BeforeProcessScan = listed.Add;
        Resolver.ResolveIncrementally(_table, cancellationToken: Ct);

        // The kernel hands the lowest free number to the next socket: descriptor 5, which no socket ever left.
        _tree.AddSocket(100, 5, 5003);
        Table(5000, 5001, 5002, 5003, 6000);
        listed.Clear();
        AssertSameAsFullScan("a socket at a number the listing did not show");
        Assert.Empty(listed);
        Assert.Equal(new AttributionScan(Full: false, ProcessesRead: 1, DescriptorsRead: 1, SocketsSought: 1), Resolver.LastScan);
    }

    [Fact]
    public void A_new_socket_the_kernel_says_is_closed_already_is_not_sought_beyond_the_cheap_probes()
    {
        _tree.AddProcess(100).AddSocket(100, 3, 5000);
        _tree.AddProcess(200);
        Table(5000);
        var listed = new List<int>();
        Resolver.BeforeProcessScan = listed.Add;
        Resolver.ResolveIncrementally(_table, cancellationToken: Ct);

        // 7000 was in the dump but closed before the probes: in no process, and the kernel no longer has it.
        Table(5000, 7000);
        listed.Clear();
        var asked = new List<long>();
        var attribution = Resolver.ResolveIncrementally(_table, isOpen: inode => { asked.Add(inode); return false; }, cancellationToken: Ct);

        Assert.False(attribution.OwnersByInode.ContainsKey(7000));
        Assert.Equal([7000L], asked);
        Assert.Empty(listed);
        Assert.Equal(new AttributionScan(Full: false, ProcessesRead: 1, DescriptorsRead: 1, SocketsSought: 1, SocketsClosedBeforeFound: 1), Resolver.LastScan);
    }

    [Fact]
    public void A_new_socket_above_the_highest_known_descriptor_is_found_by_probing()
    {
        _tree.AddProcess(100).AddSocket(100, 3, 5000);
        _tree.AddProcess(200).AddSocket(200, 3, 6000);
        Table(5000, 6000);
        Resolver.ResolveIncrementally(_table, cancellationToken: Ct);

        _tree.AddDescriptor(200, 4, "/var/log/app.log");
        _tree.AddSocket(200, 5, 6001);
        Table(5000, 6000, 6001);
        AssertSameAsFullScan("a socket two descriptors above the highest known one");

        // Process 200 (newest first) is probed at descriptors 4 (a file) and 5 (the socket), and the search stops there.
        Assert.Equal(new AttributionScan(Full: false, ProcessesRead: 1, DescriptorsRead: 2, SocketsSought: 1), Resolver.LastScan);
    }

    [Fact]
    public void A_socket_at_an_unknown_low_descriptor_is_found_by_listing_and_one_in_a_process_without_sockets_by_whole_reads_newest_first()
    {
        _tree.AddProcess(100).AddSocket(100, 3, 5000);
        _tree.AddProcess(200).AddSocket(200, 3, 6000);
        _tree.AddProcess(300);
        _tree.AddProcess(400);
        _tree.AddProcess(500);
        Table(5000, 6000);
        var listed = new List<int>();
        Resolver.BeforeProcessScan = listed.Add;
        Resolver.ResolveIncrementally(_table, cancellationToken: Ct);

        // Below the highest known descriptor and not freed by a closed socket (a file's, say): no single probe looks
        // there, the listing of the holders' descriptors does.
        _tree.AddSocket(100, 1, 5001);
        Table(5000, 5001, 6000);
        listed.Clear();
        AssertSameAsFullScan("a socket found by listing process 100's descriptors");
        Assert.Empty(listed);
        // Probes above the highest descriptor of 200 and 100 (one each), listings of 200 and 100 (one read: fd 1).
        Assert.Equal(new AttributionScan(Full: false, ProcessesRead: 4, DescriptorsRead: 3, SocketsSought: 1, ProcessesListed: 2), Resolver.LastScan);

        _tree.AddSocket(400, 1, 7000);
        Table(5000, 5001, 6000, 7000);
        listed.Clear();
        AssertSameAsFullScan("a socket in a process that never held one");
        Assert.Equal([500, 400], listed); // the holders were listed whole; then the rest, newest first, until found
    }

    [Fact]
    public void A_socket_no_readable_process_holds_starts_two_searches_then_none_until_the_next_full_scan()
    {
        _tree.AddProcess(100).AddSocket(100, 3, 5000);
        _tree.AddProcess(200);
        Table(5000);
        Resolver.ResolveIncrementally(_table, cancellationToken: Ct);

        Table(5000, 9000); // a kernel socket, or one of an unreadable process
        AssertSameAsFullScan("the first time the socket is seen");
        Assert.Equal(3, Resolver.LastScan.ProcessesRead); // a probe above process 100's descriptor, its listing, then 200 whole
        AssertSameAsFullScan("the second time"); // sought once more: it may have hidden behind a socket listed then closed
        Assert.Equal(new AttributionScan(Full: false, ProcessesRead: 3, DescriptorsRead: 1, SocketsSought: 1, ProcessesListed: 1), Resolver.LastScan);
        AssertSameAsFullScan("the next call");
        Assert.Equal(new AttributionScan(Full: false, ProcessesRead: 0, DescriptorsRead: 0, SocketsSought: 0), Resolver.LastScan);

        var full = Resolver.ResolveIncrementally(_table, fullScan: true, cancellationToken: Ct);
        Assert.True(Resolver.LastScan.Full);
        Assert.False(full.OwnersByInode.ContainsKey(9000));
    }

    [Fact]
    public void An_unreadable_process_keeps_attribution_partial_with_its_note_until_it_exits()
    {
        _tree.AddProcess(100).AddSocket(100, 3, 5000);
        _tree.AddProcess(200);
        Directory.Delete(_tree.PathOf("200", "fd"));
        _tree.WriteFile("200/fd", "not a directory");
        Table(5000);
        var first = Resolver.ResolveIncrementally(_table, cancellationToken: Ct).Status;

        _tree.AddSocket(100, 4, 5001);
        Table(5000, 5001);
        var incremental = AssertSameAsFullScan("a new socket while process 200 stays unreadable");

        Assert.Equal(first, incremental.Status);
        Assert.Equal((AttributionCompleteness.Partial, 1, 1), (incremental.Status.Completeness, incremental.Status.ProcessesScanned, incremental.Status.ProcessesUnreadable));
        Assert.Contains("pid 200: Not a directory", incremental.Status.Note, StringComparison.Ordinal);

        _tree.AddProcess(300);
        File.Delete(_tree.PathOf("200", "fd"));
        Directory.Delete(_tree.PathOf("200"), recursive: true);
        var after = AssertSameAsFullScan("the unreadable process exited and another came");
        Assert.Equal(AttributionStatus.FromScan(2, 0, 0, null), after.Status);
    }

    [Fact]
    public void A_new_process_that_exits_while_it_is_read_is_counted_as_vanished_in_that_call_only()
    {
        _tree.AddProcess(100).AddSocket(100, 3, 5000);
        Table(5000);
        Resolver.ResolveIncrementally(_table, cancellationToken: Ct);
        _tree.AddProcess(200).AddSocket(200, 3, 5000);
        Resolver.BeforeProcessScan = pid =>
        {
            if (pid == 200)
            {
                Directory.Delete(_tree.PathOf("200"), recursive: true);
            }
        };

        var during = Resolver.ResolveIncrementally(_table, cancellationToken: Ct);
        Resolver.BeforeProcessScan = null;
        var next = Resolver.ResolveIncrementally(_table, cancellationToken: Ct);

        Assert.Equal((AttributionCompleteness.Partial, 1, 1), (during.Status.Completeness, during.Status.ProcessesScanned, during.Status.ProcessesVanished));
        Assert.Equal("1 process(es) exited during the scan", during.Status.Note);
        Assert.Equal([100], during.OwnersByInode[5000].Select(p => p.Pid));
        Assert.Equal(AttributionStatus.FromScan(1, 0, 0, null), next.Status);
    }

    [Fact]
    public void A_holder_closing_its_copy_of_a_shared_socket_is_seen_at_once_a_socket_passed_over_a_unix_socket_at_the_full_scan()
    {
        _tree.AddProcess(100).AddSocket(100, 3, 5000);
        _tree.AddProcess(200).AddSocket(200, 3, 5000);
        _tree.AddProcess(300).AddSocket(300, 3, 6000);
        Table(5000, 6000);
        Resolver.ResolveIncrementally(_table, cancellationToken: Ct);

        // Process 200 closes its copy of a shared socket; process 300 receives 5000 over a unix socket.
        File.Delete(_tree.PathOf("200", "fd", "3"));
        _tree.AddSocket(300, 4, 5000);
        var incremental = Resolver.ResolveIncrementally(_table, cancellationToken: Ct);
        Assert.False(Resolver.LastScan.Full);
        Assert.Equal([100], incremental.OwnersByInode[5000].Select(p => p.Pid));

        var full = Resolver.ResolveIncrementally(_table, fullScan: true, cancellationToken: Ct);
        Assert.Equal([100, 300], full.OwnersByInode[5000].Select(p => p.Pid));
        AssertSameAsFullScan("after the full scan");
    }

    [Fact]
    public void The_reads_of_shared_sockets_per_call_are_bounded_and_every_holder_gets_its_turn()
    {
        // One listener shared by 5,000 workers (a prefork server): more descriptors than one call re-reads.
        const int Workers = 5000;
        _tree.AddProcess(100).AddSocket(100, 3, 5000);
        for (var pid = 1000; pid < 1000 + Workers; pid++)
        {
            _tree.AddProcess(pid).AddSocket(pid, 3, 5000);
        }

        Table(5000);
        Resolver.ResolveIncrementally(_table, cancellationToken: Ct);

        // The last worker by pid closes its copy: the first call's turn may not reach it, the next one's does.
        File.Delete(_tree.PathOf((1000 + Workers - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), "fd", "3"));
        var seenAfter = 0;
        for (var call = 1; call <= 2 && seenAfter == 0; call++)
        {
            var attribution = Resolver.ResolveIncrementally(_table, cancellationToken: Ct);
            Assert.False(Resolver.LastScan.Full);
            Assert.InRange(Resolver.LastScan.DescriptorsRead, 1, 4096);
            if (attribution.OwnersByInode[5000].Length == Workers)
            {
                seenAfter = call;
            }
        }

        Assert.InRange(seenAfter, 1, 2);
        AssertSameAsFullScan("every holder had its turn");
    }

    [Fact]
    public void A_process_instance_is_kept_across_incremental_calls_and_shared_with_the_owner_lists()
    {
        _tree.AddProcess(100, "server", startTime: 7).AddSocket(100, 3, 5000);
        Table(5000);
        var before = Resolver.ResolveIncrementally(_table, cancellationToken: Ct).OwnersByInode[5000][0];

        _tree.AddSocket(100, 4, 5001);
        Table(5000, 5001);
        var after = Resolver.ResolveIncrementally(_table, cancellationToken: Ct);

        Assert.Same(before, after.OwnersByInode[5000][0]);
        Assert.Same(before, after.OwnersByInode[5001][0]);
    }

    [Fact]
    public void A_proc_root_that_cannot_be_listed_is_unavailable_and_the_next_good_call_starts_over_with_a_full_scan()
    {
        var missing = new ProcessResolver(_tree.PathOf("missing"), Names);

        var attribution = missing.ResolveIncrementally(new HashSet<long> { 1 }, cancellationToken: Ct);

        Assert.Empty(attribution.OwnersByInode);
        Assert.Equal(AttributionCompleteness.Unavailable, attribution.Status.Completeness);
        Assert.Contains("cannot list", attribution.Status.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cancelled_call_throws_and_the_next_one_is_a_full_scan()
    {
        _tree.AddProcess(100).AddSocket(100, 3, 5000);
        Table(5000);
        Resolver.ResolveIncrementally(_table, cancellationToken: Ct);
        _tree.AddProcess(200).AddSocket(200, 3, 6000);
        Table(5000, 6000);

        Assert.Throws<OperationCanceledException>(() => Resolver.ResolveIncrementally(_table, cancellationToken: new CancellationToken(canceled: true)));
        AssertSameAsFullScan("after the cancelled call");

        Assert.True(Resolver.LastScan.Full);
    }

    [Fact]
    public void A_descriptor_whose_socket_closed_while_the_table_was_read_is_probed_instead_of_trusted()
    {
        ReadWhileASocketClosesAndANewOneTakesItsDescriptor();
        var attribution = Resolver.ResolveIncrementally(_table, closedSinceRead: closed => closed.Add(5001), cancellationToken: Ct);

        Assert.Equal([100], attribution.OwnersByInode[5003].Select(p => p.Pid));
        Assert.Equal([100], attribution.OwnersByInode[5001].Select(p => p.Pid)); // as the table shows it: held when read
        Assert.Equal(new AttributionScan(Full: false, ProcessesRead: 1, DescriptorsRead: 1, SocketsSought: 1, SocketsClosedSinceRead: 1), Resolver.LastScan);

        Table(5000, 5002, 5003, 6000);
        AssertSameAsFullScan("the closed socket left the table");
    }

    [Fact]
    public void Without_word_of_the_close_the_same_socket_gets_its_owner_a_call_late()
    {
        ReadWhileASocketClosesAndANewOneTakesItsDescriptor();
        var attribution = Resolver.ResolveIncrementally(_table, cancellationToken: Ct);

        // The listing of process 100 skips descriptor 4 (held 5001, still in the table) and counts as a whole read,
        // so 5003 is missed: that is what the words of closes prevent. It is sought again at the next call.
        Assert.False(attribution.OwnersByInode.ContainsKey(5003));
        Assert.True(Resolver.LastScan.ProcessesListed > 0, $"{Resolver.LastScan}");

        Table(5000, 5002, 5003, 6000);
        AssertSameAsFullScan("the closed socket left the table");
    }

    [Fact]
    public void A_socket_closed_since_the_read_keeps_its_owner_through_a_full_scan()
    {
        _tree.AddProcess(100).AddSocket(100, 3, 5000).AddSocket(100, 4, 5001);
        Table(5000, 5001);
        Resolver.ResolveIncrementally(_table, cancellationToken: Ct);

        File.Delete(_tree.PathOf("100", "fd", "4"));
        var full = Resolver.ResolveIncrementally(_table, fullScan: true, closedSinceRead: closed => closed.Add(5001), cancellationToken: Ct);

        Assert.Equal([100], full.OwnersByInode[5001].Select(p => p.Pid));
        Table(5000);
        AssertSameAsFullScan("the closed socket left the table");
    }

    [Fact]
    public void A_socket_a_whole_read_finds_before_the_table_lists_it_is_read_first_next_time()
    {
        _tree.AddProcess(100).AddSocket(100, 3, 5000).AddSocket(100, 4, 5001); // 5001 opened after the table was read
        _tree.AddProcess(200).AddSocket(200, 3, 6000);
        Table(5000, 6000);
        Resolver.ResolveIncrementally(_table, cancellationToken: Ct);

        Table(5000, 5001, 6000);
        var attribution = Resolver.ResolveIncrementally(_table, cancellationToken: Ct);

        Assert.Equal([100], attribution.OwnersByInode[5001].Select(p => p.Pid));
        Assert.Equal(new AttributionScan(Full: false, ProcessesRead: 1, DescriptorsRead: 1, SocketsSought: 1), Resolver.LastScan);
    }

    [Fact]
    public void A_descriptor_marked_unsettled_stays_so_when_read_again_in_the_same_call()
    {
        _tree.AddProcess(100).AddSocket(100, 3, 5000).AddSocket(100, 4, 5001);
        _tree.AddProcess(200).AddSocket(200, 3, 6000);
        Table(5000, 5001, 6000);
        Resolver.ResolveIncrementally(_table, cancellationToken: Ct);

        // 5001 closed and 5002 (not listed yet) took its descriptor; 7000 is new, far above the highest descriptor.
        File.Delete(_tree.PathOf("100", "fd", "4"));
        _tree.AddSocket(100, 4, 5002).AddSocket(100, 40, 7000);
        Table(5000, 6000, 7000);
        Resolver.ResolveIncrementally(_table, cancellationToken: Ct);
        Assert.True(Resolver.LastScan.ProcessesListed > 0, $"7000 is found by listing: {Resolver.LastScan}");

        // The listing read descriptor 4 again after the probe of freed descriptors had marked it: still unsettled,
        // so 5002 is read there first once the table lists it.
        Table(5000, 5002, 6000, 7000);
        var attribution = Resolver.ResolveIncrementally(_table, cancellationToken: Ct);

        Assert.Equal([100], attribution.OwnersByInode[5002].Select(p => p.Pid));
        Assert.Equal(new AttributionScan(Full: false, ProcessesRead: 1, DescriptorsRead: 1, SocketsSought: 1), Resolver.LastScan);
    }

    /// <summary>
    /// A read that is not atomic: it listed 5001 of process 100, which then closed, and the new socket 5003 that took its
    /// descriptor (4). Without word of the close, descriptor 4 passes for still holding 5001.
    /// </summary>
    private void ReadWhileASocketClosesAndANewOneTakesItsDescriptor()
    {
        _tree.AddProcess(100).AddSocket(100, 3, 5000).AddSocket(100, 4, 5001).AddSocket(100, 5, 5002);
        _tree.AddProcess(200).AddSocket(200, 3, 6000);
        Table(5000, 5001, 5002, 6000);
        Resolver.ResolveIncrementally(_table, cancellationToken: Ct);

        File.Delete(_tree.PathOf("100", "fd", "4"));
        _tree.AddSocket(100, 4, 5003);
        Table(5000, 5001, 5002, 5003, 6000);
    }

    private void Table(params long[] inodes)
    {
        _table.Clear();
        _table.UnionWith(inodes);
    }

    /// <summary>Another process takes <paramref name="pid"/>: its proc entry is a new directory (so a new inode number).</summary>
    private void ReplaceProcess(int pid, string comm, ulong startTime, long inode)
    {
        const int Staging = 999_999;
        _tree.AddProcess(Staging, comm, startTime).AddSocket(Staging, 3, inode);
        _tree.WriteStat(Staging, comm, startTime);
        var path = _tree.PathOf(pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.Delete(path, recursive: true);
        Directory.Move(_tree.PathOf(Staging.ToString(System.Globalization.CultureInfo.InvariantCulture)), path);
    }

    private Attribution AssertSameAsFullScan(string after)
    {
        var actual = Resolver.ResolveIncrementally(_table, cancellationToken: Ct);
        var actualOwners = Describe(actual.OwnersByInode);
        var actualStatus = actual.Status;
        var expected = new ProcessResolver(_tree.Root, Names).Resolve(_table, Ct);

        Assert.True(Describe(expected.OwnersByInode) == actualOwners, $"after {after}: full scan {Describe(expected.OwnersByInode)}, incremental {actualOwners}");
        Assert.True(expected.Status == actualStatus, $"after {after}: full scan {expected.Status}, incremental {actualStatus}");
        return actual;
    }

    private static string Describe(IReadOnlyDictionary<long, ImmutableArray<ProcessInfo>> owners) =>
        string.Join("; ", owners.OrderBy(o => o.Key).Select(o => $"{o.Key}: {string.Join(",", o.Value.Select(p => $"{p.Name}[{p.Pid}]@{p.StartTime}"))}"));
}
