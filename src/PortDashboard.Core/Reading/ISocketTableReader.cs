using PortDashboard.Core.Sockets;

namespace PortDashboard.Core.Reading;

/// <summary>Reads the machine's socket table (without owners: see <see cref="ProcessResolver"/>).</summary>
public interface ISocketTableReader
{
    /// <summary>A short name shown in snapshots and logs: <c>proc-net</c>, <c>netlink</c>, <c>portable</c>.</summary>
    string Name { get; }

    /// <summary>Whether this reader's sockets carry inodes that <see cref="ProcessResolver"/> can attribute.</summary>
    bool SupportsAttribution { get; }

    /// <summary>
    /// Reads every TCP and UDP socket, IPv4 and IPv6, in every state. Malformed input is skipped and reported in
    /// the result; an unreadable source throws (the caller logs it and retries).
    /// </summary>
    SocketTableRead Read(CancellationToken cancellationToken = default);
}

/// <summary>
/// A reader that hands back the previous snapshot's instance of each socket whose every field it reads is unchanged,
/// instead of allocating one per row at every poll (most rows, most polls).
/// </summary>
public interface IReusingSocketTableReader : ISocketTableReader
{
    /// <summary>
    /// Reads as <see cref="ISocketTableReader.Read"/> does; a socket whose protocol, endpoints, inode, family, state, uid
    /// and queues equal a socket of <paramref name="previous"/> is that instance, owners included (the caller attaches
    /// owners by copying it when they differ). The list returned is the reader's own, reused by its next read.
    /// </summary>
    SocketTableRead ReadReusing(Snapshot previous, CancellationToken cancellationToken = default);
}

/// <summary>A reader that can tell whether one socket is still open without reading the whole table.</summary>
public interface ISocketLookup
{
    /// <summary>
    /// Whether the kernel still has <paramref name="socket"/> (the socket with its endpoints holds its inode): true or
    /// false, or null when this reader cannot tell now.
    /// </summary>
    bool? IsOpen(Socket socket);

    /// <summary>
    /// Adds to <paramref name="inodes"/> the inodes of sockets of the last read that have closed since it began (as far as
    /// this reader knows: a read is not atomic). False when this reader cannot tell, or not for all of them.
    /// </summary>
    bool CollectClosedSinceRead(ISet<long> inodes);
}

/// <summary>One read of the socket table.</summary>
/// <param name="Sockets">The sockets read, owners not yet attached.</param>
/// <param name="Malformed">Lines or messages that could not be parsed, with their raw text for the log.</param>
public sealed record SocketTableRead(List<Socket> Sockets, MalformedInput Malformed);

/// <summary>Input that could not be parsed: a count, and the first few raw lines kept for the log.</summary>
public sealed class MalformedInput
{
    public const int SamplesKept = 10;

    private readonly List<string> _samples = [];

    public int Count { get; private set; }

    /// <summary>Up to <see cref="SamplesKept"/> offending lines, each prefixed with where it came from and why.</summary>
    public IReadOnlyList<string> Samples => _samples;

    public void Add(string source, string reason, ReadOnlySpan<byte> rawLine)
    {
        Count++;
        if (_samples.Count < SamplesKept)
        {
            _samples.Add($"{source}: {reason}: {System.Text.Encoding.UTF8.GetString(rawLine).TrimEnd('\r')}");
        }
    }

    public void AddRange(MalformedInput other)
    {
        Count += other.Count;
        foreach (var sample in other._samples)
        {
            if (_samples.Count < SamplesKept)
            {
                _samples.Add(sample);
            }
        }
    }
}
