using System.Text;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Sockets;
using PortDashboard.Core.Tests.Support;

namespace PortDashboard.Core.Tests.Reading;

/// <summary>Attribution over a proc tree built at test time, and once over the real /proc.</summary>
public sealed class ProcessResolverTests : IDisposable
{
    private readonly FakeProcTree _tree = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _tree.Dispose();

    private ProcessResolver Resolver(UserNames? userNames = null) =>
        new(_tree.Root, userNames ?? new UserNames(_tree.PathOf("no-passwd")));

    [Fact]
    public void A_socket_held_by_several_processes_lists_each_owner_once_in_pid_order()
    {
        // Added out of order: the tree's listing order is not the owners' order.
        _tree.AddProcess(300, "worker", startTime: 30).AddSocket(300, 3, 5000).AddSocket(300, 4, 6000);
        _tree.AddProcess(100, "master", startTime: 10).AddSocket(100, 7, 5000);
        _tree.AddProcess(200, "worker", startTime: 20).AddSocket(200, 3, 5000);

        var attribution = Resolver().Resolve(cancellationToken: Ct);

        Assert.Equal([100, 200, 300], attribution.OwnersByInode[5000].Select(p => p.Pid));
        Assert.Equal([300], attribution.OwnersByInode[6000].Select(p => p.Pid));
        Assert.Same(attribution.OwnersByInode[5000][2], attribution.OwnersByInode[6000][0]);
        Assert.Equal(AttributionStatus.FromScan(3, 0, 0, null), attribution.Status);
    }

    [Fact]
    public void A_process_holding_one_socket_on_two_descriptors_is_one_owner()
    {
        _tree.AddProcess(100).AddSocket(100, 3, 5000).AddSocket(100, 9, 5000);
        _tree.AddProcess(200).AddSocket(200, 3, 5000).AddSocket(200, 4, 5000);

        var owners = Resolver().Resolve(cancellationToken: Ct).OwnersByInode[5000];

        Assert.Equal([100, 200], owners.Select(p => p.Pid));
    }

    [Fact]
    public void Descriptors_that_are_not_sockets_are_ignored()
    {
        _tree.AddProcess(100)
            .AddDescriptor(100, 0, "/dev/null")
            .AddDescriptor(100, 1, "pipe:[4242]")
            .AddDescriptor(100, 2, "anon_inode:[eventfd]")
            .AddDescriptor(100, 3, "socket:[]")
            .AddDescriptor(100, 4, "socket:[12x]")
            .AddDescriptor(100, 5, "/var/log/" + new string('a', 200)) // longer than any socket link
            .AddSocket(100, 6, 5000);
        _tree.WriteFile("100/fd/7", "a regular file, not a link"); // readlink says EINVAL

        var attribution = Resolver().Resolve(cancellationToken: Ct);

        Assert.Equal([5000L], attribution.OwnersByInode.Keys);
        Assert.Equal(AttributionCompleteness.Complete, attribution.Status.Completeness);
    }

    [Fact]
    public void Only_the_wanted_inodes_are_attributed()
    {
        _tree.AddProcess(100).AddSocket(100, 3, 5000).AddSocket(100, 4, 6000);
        _tree.AddProcess(200).AddSocket(200, 3, 7000);

        var attribution = Resolver().Resolve(new HashSet<long> { 6000, 7000, 8000 }, Ct);

        Assert.Equal([6000L, 7000L], attribution.OwnersByInode.Keys.Order());
    }

    [Fact]
    public void A_pid_directory_without_fd_is_a_process_that_exited_and_makes_attribution_partial()
    {
        _tree.AddProcess(100).AddSocket(100, 3, 5000);
        _tree.AddProcess(200);
        Directory.Delete(_tree.PathOf("200", "fd"));

        var attribution = Resolver().Resolve(cancellationToken: Ct);

        Assert.Equal([100], attribution.OwnersByInode[5000].Select(p => p.Pid));
        var status = attribution.Status;
        Assert.Equal(AttributionCompleteness.Partial, status.Completeness);
        Assert.Equal((1, 1, 1, 0), (status.ProcessesScanned, status.ProcessesSkipped, status.ProcessesVanished, status.ProcessesUnreadable));
        Assert.Equal("1 process(es) exited during the scan", status.Note);
    }

    [Theory]
    [InlineData("the whole pid directory")]
    [InlineData("the fd directory")]
    public void A_process_that_exits_between_the_listing_and_its_reading_is_skipped_and_counted(string removed)
    {
        _tree.AddProcess(100).AddSocket(100, 3, 5000);
        _tree.AddProcess(200).AddSocket(200, 3, 6000);
        var resolver = Resolver();
        resolver.BeforeProcessScan = pid =>
        {
            if (pid == 200)
            {
                Directory.Delete(removed == "the fd directory" ? _tree.PathOf("200", "fd") : _tree.PathOf("200"), recursive: true);
            }
        };

        var attribution = resolver.Resolve(cancellationToken: Ct);

        Assert.True(attribution.OwnersByInode.ContainsKey(5000));
        Assert.False(attribution.OwnersByInode.ContainsKey(6000));
        Assert.Equal((AttributionCompleteness.Partial, 1, 1), (attribution.Status.Completeness, attribution.Status.ProcessesScanned, attribution.Status.ProcessesVanished));
    }

    // Root passes every permission check on a plain file system, so "unreadable" is produced here by descriptors the
    // kernel really refuses to list: an fd that is a regular file (ENOTDIR) and an fd that is a symlink loop (ELOOP).
    // Permission denied itself, which the kernel answers per descriptor for a process we may not inspect, is tested
    // against the real /proc below (pid 1 on this machine).
    [Theory]
    [InlineData("a regular file", "Not a directory")]
    [InlineData("a symlink loop", "Too many levels of symbolic links")]
    public void A_process_whose_descriptors_cannot_be_listed_is_skipped_counted_and_named(string fd, string reason)
    {
        _tree.AddProcess(100).AddSocket(100, 3, 5000);
        _tree.AddProcess(200);
        Directory.Delete(_tree.PathOf("200", "fd"));
        if (fd == "a regular file")
        {
            _tree.WriteFile("200/fd", "not a directory");
        }
        else
        {
            File.CreateSymbolicLink(_tree.PathOf("200", "fd"), "fd");
        }

        var attribution = Resolver().Resolve(cancellationToken: Ct);

        Assert.Equal([100], attribution.OwnersByInode[5000].Select(p => p.Pid));
        var status = attribution.Status;
        Assert.Equal((AttributionCompleteness.Partial, 1, 1, 0), (status.Completeness, status.ProcessesScanned, status.ProcessesUnreadable, status.ProcessesVanished));
        Assert.Contains($"pid 200: {reason}", status.Note, StringComparison.Ordinal);
        Assert.Contains("CAP_SYS_PTRACE", status.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void A_process_the_kernel_refuses_to_show_is_unreadable_even_when_its_descriptors_can_be_listed()
    {
        // The shape of /proc/1 here: the fd directory lists, each readlink fails with EACCES.
        var denied = Directory.GetFileSystemEntries("/proc/1/fd").FirstOrDefault();
        Assert.SkipUnless(denied is not null && IsPermissionDenied(denied), "this machine lets root read /proc/1/fd, so the kernel refuses nothing to link to");
        _tree.AddProcess(100).AddSocket(100, 3, 5000);
        _tree.AddProcess(200);
        Directory.Delete(_tree.PathOf("200", "fd"));
        File.CreateSymbolicLink(_tree.PathOf("200", "fd"), "/proc/1/fd");

        var status = Resolver().Resolve(cancellationToken: Ct).Status;

        Assert.Equal((AttributionCompleteness.Partial, 1), (status.Completeness, status.ProcessesUnreadable));
        Assert.Contains("pid 200: Permission denied", status.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void A_reused_pid_with_another_start_time_is_another_process_and_a_known_one_is_not_read_again()
    {
        _tree.AddProcess(100, "old", startTime: 500).AddSocket(100, 3, 5000);
        var resolver = Resolver();

        var first = resolver.Resolve(cancellationToken: Ct).OwnersByInode[5000][0];
        _tree.WriteFile("100/comm", "renamed\n"); // same (pid, start time): the instance from the last scan stands
        var second = resolver.Resolve(cancellationToken: Ct).OwnersByInode[5000][0];
        _tree.WriteFile("100/comm", "new\n");
        _tree.WriteStat(100, "new", startTime: 900); // the pid now belongs to a process started later
        var third = resolver.Resolve(cancellationToken: Ct).OwnersByInode[5000][0];

        Assert.Same(first, second);
        Assert.Equal(("old", 500UL), (first.Name, first.StartTime));
        Assert.NotSame(first, third);
        Assert.Equal((100, "new", 900UL), (third.Pid, third.Name, third.StartTime));
    }

    [Fact]
    public void A_command_name_with_spaces_and_parentheses_keeps_the_start_time_right()
    {
        const string name = "my (odd)) name";
        _tree.AddProcess(100, name, startTime: 4242).AddSocket(100, 3, 5000);
        _tree.AddProcess(200, name, startTime: 4343).AddSocket(200, 3, 6000);
        File.Delete(_tree.PathOf("200", "comm")); // then the name comes from stat

        var attribution = Resolver().Resolve(cancellationToken: Ct);

        var fromComm = attribution.OwnersByInode[5000][0];
        var fromStat = attribution.OwnersByInode[6000][0];
        Assert.Equal((name, 4242UL), (fromComm.Name, fromComm.StartTime));
        Assert.Equal((name, 4343UL), (fromStat.Name, fromStat.StartTime));
    }

    [Fact]
    public void Uid_and_user_name_come_from_status_and_passwd_and_a_missing_status_shows_as_unknown()
    {
        _tree.WriteFile("passwd", "root:x:0:0:root:/root:/bin/bash\n# a comment\nalice:x:1000:1000:Alice:/home/alice:/bin/sh\nbroken line\n");
        _tree.AddProcess(100, uid: 1000).AddSocket(100, 3, 5000);
        _tree.AddProcess(200, uid: 4242).AddSocket(200, 3, 6000);
        _tree.AddProcess(300, uid: null).AddSocket(300, 3, 7000);

        var owners = Resolver(new UserNames(_tree.PathOf("passwd"))).Resolve(cancellationToken: Ct).OwnersByInode;

        Assert.Equal((1000, "alice"), (owners[5000][0].Uid, owners[5000][0].UserName));
        Assert.Equal((4242, "4242"), (owners[6000][0].Uid, owners[6000][0].UserName));
        Assert.Equal((-1, "?"), (owners[7000][0].Uid, owners[7000][0].UserName));
    }

    [Fact]
    public void User_names_follow_the_passwd_file_when_it_changes_and_show_numbers_without_one()
    {
        var passwd = _tree.PathOf("passwd");
        var names = new UserNames(passwd);

        var beforeFile = names.NameOf(1000);
        _tree.WriteFile("passwd", "alice:x:1000:1000::/home/alice:/bin/sh\n");
        File.SetLastWriteTimeUtc(passwd, new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var fromFile = names.NameOf(1000);
        _tree.WriteFile("passwd", "bob:x:1000:1000::/home/bob:/bin/sh\nshadowed:x:1000:1000::/:/bin/sh\n");
        File.SetLastWriteTimeUtc(passwd, new DateTime(2026, 1, 2, 0, 0, 0, DateTimeKind.Utc));
        var afterChange = names.NameOf(1000);

        Assert.Equal(("1000", "alice", "bob"), (beforeFile, fromFile, afterChange));
    }

    [Fact]
    public void The_command_line_is_read_only_when_asked_for()
    {
        _tree.AddProcess(100).AddSocket(100, 3, 5000);
        _tree.WriteFile("100/cmdline", "server\0--port\08080\0");

        var without = new ProcessResolver(_tree.Root).Resolve(cancellationToken: Ct).OwnersByInode[5000][0];
        var with = new ProcessResolver(_tree.Root, includeCommandLine: true).Resolve(cancellationToken: Ct).OwnersByInode[5000][0];

        Assert.Null(without.CommandLine);
        Assert.Equal("server --port 8080", with.CommandLine);
    }

    [Fact]
    public void A_proc_root_that_cannot_be_listed_makes_attribution_unavailable_not_a_failure()
    {
        var attribution = new ProcessResolver(_tree.PathOf("missing")).Resolve(cancellationToken: Ct);

        Assert.Empty(attribution.OwnersByInode);
        Assert.Equal(AttributionCompleteness.Unavailable, attribution.Status.Completeness);
        Assert.Contains("cannot list", attribution.Status.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void Entries_of_the_proc_root_that_are_not_pids_are_ignored()
    {
        _tree.AddProcess(100).AddSocket(100, 3, 5000);
        _tree.WriteFile("net/tcp", "");
        _tree.WriteFile("self/stat", "");
        Directory.CreateDirectory(_tree.PathOf("0100"));
        Directory.CreateDirectory(_tree.PathOf("-5"));

        var status = Resolver().Resolve(cancellationToken: Ct).Status;

        Assert.Equal(AttributionStatus.FromScan(1, 0, 0, null), status);
    }

    [Fact]
    public void Cancellation_stops_the_scan()
    {
        _tree.AddProcess(100);

        Assert.Throws<OperationCanceledException>(() => Resolver().Resolve(cancellationToken: new CancellationToken(canceled: true)));
    }

    [Fact]
    public void On_the_real_machine_an_unreadable_process_makes_the_scan_partial_and_the_note_says_who_to_run_as()
    {
        // Here even root may not read /proc/1/fd: ls lists it, every readlink is refused.
        var deniedPids = Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && DescriptorsDenied(pid))
            .Order()
            .ToList();

        var status = new ProcessResolver("/proc").Resolve(cancellationToken: Ct).Status;

        Assert.True(status.ProcessesScanned > 0, "the real /proc has readable processes, this one at least");
        if (deniedPids.Count == 0)
        {
            Assert.Equal(0, status.ProcessesUnreadable);
            return;
        }

        Assert.Equal(AttributionCompleteness.Partial, status.Completeness);
        Assert.True(status.ProcessesUnreadable >= 1, $"pids {string.Join(",", deniedPids)} refuse readlink, yet none was counted unreadable");
        Assert.Contains($"pid {deniedPids[0]}: Permission denied", status.Note, StringComparison.Ordinal);
        Assert.Contains("root", status.Note, StringComparison.Ordinal);
        Assert.Contains("CAP_SYS_PTRACE", status.Note, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1 (process_api) S 0 0 0 0 -1 4194560 26761 500968 0 140 29 44 3467 447 20 0 11 0 6 37826560 2760 18446744073709551615\n", 6UL)]
    [InlineData("42 (a) b) (c) S 1 42 42 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 987654321 0", 987654321UL)]
    [InlineData("42 (  spaced  name ) S 1 42 42 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 77 0", 77UL)]
    public void Start_time_is_field_22_counted_after_the_last_parenthesis(string stat, ulong expected)
    {
        Assert.True(ProcessResolver.TryParseStartTime(Encoding.UTF8.GetBytes(stat), out var startTime));
        Assert.Equal(expected, startTime);
    }

    [Theory]
    [InlineData("42 no parenthesis S 1 2 3")]
    [InlineData("42 (short) S 1 2 3 4 5")]
    [InlineData("42 (bad) S 1 42 42 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12x 0")]
    public void A_stat_line_without_a_start_time_is_rejected(string stat) =>
        Assert.False(ProcessResolver.TryParseStartTime(Encoding.UTF8.GetBytes(stat), out _));

    [Theory]
    [InlineData("Name:\tsshd\nUid:\t1000\t1000\t1000\t1000\nGid:\t0\n", 1000)]
    [InlineData("Uid:\t0\t0\t0\t0\n", 0)]
    [InlineData("Name:\tx\nUid: 33 0 0 0", 33)]
    public void Uid_is_the_first_number_of_the_Uid_line(string status, int expected)
    {
        Assert.True(ProcessResolver.TryParseUid(Encoding.UTF8.GetBytes(status), out var uid));
        Assert.Equal(expected, uid);
    }

    [Theory]
    [InlineData("Name:\tx\nGid:\t0\n")]
    [InlineData("Name:\tx\nUid:\t\n")]
    [InlineData("Name:\tx\nUid:\tabc\t0\n")]
    [InlineData("Name:\tx\nRealUid:\t5\n")]
    public void A_status_without_a_readable_Uid_line_is_rejected(string status)
    {
        Assert.False(ProcessResolver.TryParseUid(Encoding.UTF8.GetBytes(status), out var uid));
        Assert.Equal(-1, uid);
    }

    [Theory]
    [InlineData("socket:[12345]", 12345L)]
    [InlineData("socket:[1]", 1L)]
    [InlineData("socket:[]", 0L)]
    [InlineData("socket:[12x]", 0L)]
    [InlineData("socket:[12", 0L)]
    [InlineData("pipe:[12]", 0L)]
    [InlineData("/dev/null", 0L)]
    public void Socket_links_name_the_inode(string target, long expected)
    {
        Assert.Equal(expected != 0, ProcessResolver.TryParseSocketInode(Encoding.UTF8.GetBytes(target), out var inode));
        Assert.Equal(expected, inode);
    }

    private static bool DescriptorsDenied(int pid)
    {
        try
        {
            var first = Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd").FirstOrDefault();
            return first is not null && IsPermissionDenied(first);
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
        catch (IOException)
        {
            return false; // exited meanwhile
        }
    }

    private static bool IsPermissionDenied(string link)
    {
        try
        {
            _ = File.ResolveLinkTarget(link, returnFinalTarget: false); // FileInfo.LinkTarget would say null instead
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
