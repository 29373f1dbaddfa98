using System.Net.Sockets;
using NetSocket = System.Net.Sockets.Socket;

namespace PortDashboard.Core.Reading.Netlink;

/// <summary>
/// The cookies of the sockets the kernel reports destroyed (the sock_diag destroy groups, as <c>ss -E</c>), read
/// without blocking when asked: no thread of its own. The reader uses them to tell which sockets of a dump closed while
/// or after it was taken (a dump is not atomic). Needs CAP_NET_ADMIN, like <see cref="SocketDestroyWatcher"/>.
/// </summary>
internal sealed class DestroyedCookies : IDisposable
{
    private readonly NetSocket _socket;
    private readonly byte[] _buffer = new byte[64 * 1024];

    private DestroyedCookies(NetSocket socket)
    {
        _socket = socket;
        _socket.Blocking = false; // a drain reads what is queued and returns
    }

    /// <summary>Subscribes; null with the reason when not permitted or not supported.</summary>
    public static DestroyedCookies? TryOpen(out string? whyNot)
    {
        var socket = SocketDestroyWatcher.TrySubscribe(out whyNot);
        return socket is null ? null : new DestroyedCookies(socket);
    }

    /// <summary>
    /// Reads every notification queued so far and adds each destroyed socket's cookie to <paramref name="into"/> (null
    /// discards them). False when the kernel dropped notifications since the last drain (its queue overflowed) or the
    /// socket failed: what was dropped is unknown.
    /// </summary>
    public bool Drain(HashSet<ulong>? into)
    {
        var complete = true;
        while (true)
        {
            var received = _socket.Receive(_buffer, 0, _buffer.Length, SocketFlags.None, out var error);
            if (error == SocketError.WouldBlock)
            {
                return complete;
            }

            if (error == SocketError.NoBufferSpaceAvailable)
            {
                complete = false; // ENOBUFS: some were dropped; what is queued after it is still good
                continue;
            }

            if (error != SocketError.Success || received <= 0)
            {
                return false;
            }

            if (into is not null)
            {
                Collect(_buffer.AsSpan(0, received), into);
            }
        }
    }

    /// <summary>The cookies of the destroy notifications in one datagram.</summary>
    internal static void Collect(ReadOnlySpan<byte> data, HashSet<ulong> into)
    {
        while (NetlinkReader.NextMessage(ref data, out var type, out _, out var payload, out var badLength) && badLength is null)
        {
            if (type == SockDiagMessages.SockDiagByFamily && payload.Length >= SockDiagMessages.InetDiagMessageLength)
            {
                into.Add(SockDiagMessages.ReadCookie(payload));
            }
        }
    }

    public void Dispose() => _socket.Dispose();
}
