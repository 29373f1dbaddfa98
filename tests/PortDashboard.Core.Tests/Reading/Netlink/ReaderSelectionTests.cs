using PortDashboard.Core.Reading;
using PortDashboard.Core.Reading.Netlink;

namespace PortDashboard.Core.Tests.Reading.Netlink;

public sealed class ReaderSelectionTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("pd-readers-");

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public void The_real_proc_root_is_read_over_netlink()
    {
        var reader = SocketTableReaders.Create("/proc", ReaderKind.Auto, out var note);

        Assert.IsType<NetlinkReader>(reader);
        Assert.Null(note);
        (reader as IDisposable)?.Dispose();
    }

    [Fact]
    public void A_proc_tree_of_files_is_read_as_files_not_over_netlink()
    {
        Directory.CreateDirectory(Path.Combine(_root.FullName, "net"));
        File.WriteAllText(Path.Combine(_root.FullName, "net", "tcp"), "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n");

        var reader = SocketTableReaders.Create(_root.FullName, ReaderKind.Auto, out _);

        Assert.IsType<ProcNetReader>(reader);
    }

    [Fact]
    public void Without_proc_net_the_portable_reader_is_chosen_and_the_note_says_why()
    {
        var reader = SocketTableReaders.Create(_root.FullName, ReaderKind.Auto, out var note);

        Assert.IsType<PortableReader>(reader);
        Assert.Contains("portable", note, StringComparison.Ordinal);
    }

    [Fact]
    public void An_explicit_choice_is_honoured()
    {
        Assert.IsType<ProcNetReader>(SocketTableReaders.Create("/proc", ReaderKind.ProcNet, out _));
        Assert.IsType<PortableReader>(SocketTableReaders.Create("/proc", ReaderKind.Portable, out _));
    }
}
