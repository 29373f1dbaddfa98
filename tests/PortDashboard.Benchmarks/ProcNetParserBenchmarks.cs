using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Sockets;
using PortDashboard.Core.Tests.Reading;

namespace PortDashboard.Benchmarks;

/// <summary>
/// Parses a generated 100,000-socket <c>/proc/net/tcp</c> (and <c>tcp6</c>) from memory, as the reader does
/// after reading the file into its reused buffer. Target: ≤ 30 ms per table and no allocation per socket beyond
/// the <see cref="Socket"/> itself (compare "Allocated/socket" with <see cref="OneSocket"/>'s allocation).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class ProcNetParserBenchmarks
{
    public const int Lines = 100_000;

    private byte[] _tcp = [];
    private byte[] _tcp6 = [];
    private string _procRoot = "";
    private ProcNetReader? _reader;

    [GlobalSetup]
    public void Setup()
    {
        _tcp = Encoding.ASCII.GetBytes(ProcNetTableGenerator.Tcp(Lines).Text);
        _tcp6 = Encoding.ASCII.GetBytes(ProcNetTableGenerator.Tcp(Lines, ipv6: true).Text);

        _procRoot = Directory.CreateTempSubdirectory("portdashboard-bench-").FullName;
        Directory.CreateDirectory(Path.Combine(_procRoot, "net"));
        File.WriteAllBytes(Path.Combine(_procRoot, "net", "tcp"), _tcp);
        _reader = new ProcNetReader(_procRoot);
        _reader.Read(); // sizes its buffer and its expected socket count, as after the first poll
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_procRoot, recursive: true);

    /// <summary>100,000 lines of /proc/net/tcp, into a list sized as the reader sizes it (from the previous poll).</summary>
    [Benchmark(Baseline = true)]
    public List<Socket> ParseTcp() => Parse(_tcp, IpVersion.IPv4);

    /// <summary>100,000 lines of /proc/net/tcp6 (37-character addresses).</summary>
    [Benchmark]
    public List<Socket> ParseTcp6() => Parse(_tcp6, IpVersion.IPv6);

    /// <summary>The whole reader on the same table written to a file: open, read into the reused buffer, parse.</summary>
    [Benchmark]
    public SocketTableRead ReadTcpFile() => _reader!.Read();

    /// <summary>One <see cref="Socket"/>: what each parsed line may cost, and nothing more.</summary>
    [Benchmark]
    public Socket OneSocket() =>
        new(TransportProtocol.Tcp, IpVersion.IPv4, new Endpoint(NetAddress.FromIPv4(0x7F000001), 80), default, SocketState.Listen, 1, 0);

    private static List<Socket> Parse(byte[] table, IpVersion family)
    {
        var sockets = new List<Socket>(Lines + (Lines / 8));
        var malformed = new MalformedInput();
        ProcNetParser.Parse(table, TransportProtocol.Tcp, family, sockets, malformed, "tcp");
        if (malformed.Count != 0 || sockets.Count != Lines)
        {
            throw new InvalidOperationException($"parsed {sockets.Count} sockets and {malformed.Count} malformed lines from {Lines}");
        }

        return sockets;
    }

    /// <summary>
    /// A short job (2 cores shared with other work), with Min and Median beside the Mean so that a run disturbed
    /// by other processes still shows what one undisturbed parse costs, plus the per-socket columns.
    /// </summary>
    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(20));
            AddColumn(StatisticColumn.Min, StatisticColumn.Median);
            AddColumn(new PerSocketColumn(PerSocketColumn.Kind.Time, Lines), new PerSocketColumn(PerSocketColumn.Kind.Allocated, Lines));
        }
    }
}
