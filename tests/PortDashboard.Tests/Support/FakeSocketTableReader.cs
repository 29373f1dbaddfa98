using System.Collections.Immutable;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Sockets;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Tests.Support;

/// <summary>
/// A socket table a test controls: <see cref="Sockets"/> is what the next read returns; <see cref="FailWhen"/> decides,
/// from the 1-based call number, whether a read throws instead. Reads are counted.
/// </summary>
public sealed class FakeSocketTableReader : ISocketTableReader
{
    private readonly Lock _lock = new();
    private ImmutableArray<Socket> _sockets = [];
    private int _calls;

    public string Name => "fake";

    public bool SupportsAttribution => false;

    /// <summary>The message of the exception a failing read throws.</summary>
    public const string FailureMessage = "fake read failure: /proc/net/tcp is unreadable";

    public Func<int, bool> FailWhen { get; set; } = _ => false;

    /// <summary>Malformed lines each read reports (raw text, for the log).</summary>
    public IReadOnlyList<string> MalformedLines { get; set; } = [];

    public int Calls
    {
        get
        {
            lock (_lock)
            {
                return _calls;
            }
        }
    }

    public ImmutableArray<Socket> Sockets
    {
        get
        {
            lock (_lock)
            {
                return _sockets;
            }
        }

        set
        {
            lock (_lock)
            {
                _sockets = value;
            }
        }
    }

    public SocketTableRead Read(CancellationToken cancellationToken = default)
    {
        int call;
        ImmutableArray<Socket> sockets;
        lock (_lock)
        {
            call = ++_calls;
            sockets = _sockets;
        }

        if (FailWhen(call))
        {
            throw new IOException(FailureMessage);
        }

        var malformed = new MalformedInput();
        foreach (var line in MalformedLines)
        {
            malformed.Add("fake/tcp", "bad field", System.Text.Encoding.UTF8.GetBytes(line));
        }

        return new SocketTableRead([.. sockets], malformed);
    }
}
