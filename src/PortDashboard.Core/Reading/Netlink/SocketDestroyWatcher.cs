using System.Buffers.Binary;
using System.Net.Sockets;
using System.Threading.Channels;
using PortDashboard.Core.Sockets;
using NetSocket = System.Net.Sockets.Socket;
using Socket = PortDashboard.Core.Sockets.Socket;

namespace PortDashboard.Core.Reading.Netlink;

/// <summary>A socket the kernel reported destroyed, with when we heard of it.</summary>
public readonly record struct DestroyedSocket(Socket Socket, DateTimeOffset SeenAt);

/// <summary>
/// Listens to the kernel's socket-destroy notifications (the sock_diag multicast groups that <c>ss -E</c> uses),
/// so connections that open and close between two polls are still counted. Needs CAP_NET_ADMIN; without it
/// <see cref="TryStart"/> says so and returns null.
/// </summary>
public sealed class SocketDestroyWatcher : IAsyncDisposable
{
    private static readonly (int Group, TransportProtocol Protocol)[] Groups =
    [
        (1, TransportProtocol.Tcp), // SKNLGRP_INET_TCP_DESTROY
        (2, TransportProtocol.Udp), // SKNLGRP_INET_UDP_DESTROY
        (3, TransportProtocol.Tcp), // SKNLGRP_INET6_TCP_DESTROY
        (4, TransportProtocol.Udp), // SKNLGRP_INET6_UDP_DESTROY
    ];

    private const ushort InetDiagProtocolAttribute = 10; // INET_DIAG_PROTOCOL in linux/inet_diag.h

    private readonly NetSocket _socket;
    private readonly Channel<DestroyedSocket> _channel;
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeProvider _time;
    private readonly Task _loop;
    private long _dropped;

    private long _overruns;

    private SocketDestroyWatcher(NetSocket socket, TimeProvider time, int capacity)
    {
        _socket = socket;
        _time = time;
        _channel = Channel.CreateBounded<DestroyedSocket>(new BoundedChannelOptions(capacity)
        {
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.DropWrite,
        });
        _loop = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>Destroyed sockets, in the order the kernel reported them.</summary>
    public ChannelReader<DestroyedSocket> Destroyed => _channel.Reader;

    /// <summary>Notifications dropped because the reader fell behind (the channel was full).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Times the kernel's queue for this socket overflowed (notifications lost before we read them).</summary>
    public long Overruns => Interlocked.Read(ref _overruns);

    /// <summary>Subscribes to the four destroy groups; null with the reason when not permitted or not supported.</summary>
    public static SocketDestroyWatcher? TryStart(out string? whyNot, TimeProvider? time = null, int capacity = 65_536)
    {
        if (!OperatingSystem.IsLinux())
        {
            whyNot = "socket-destroy notifications exist only on Linux";
            return null;
        }

        var socket = TrySubscribe(out whyNot);
        return socket is null ? null : new SocketDestroyWatcher(socket, time ?? TimeProvider.System, capacity);
    }

    /// <summary>
    /// A netlink socket bound to the four destroy groups, with a large receive queue (forced past <c>rmem_max</c> when
    /// permitted); null with the reason when not permitted or not supported.
    /// </summary>
    internal static NetSocket? TrySubscribe(out string? whyNot)
    {
        NetSocket? socket = null;
        try
        {
            socket = NetlinkReader.Open();
            socket.ReceiveTimeout = 0;
            socket.ReceiveBufferSize = ReceiveQueueBytes;
            try
            {
                // SO_RCVBUFFORCE (33): past net.core.rmem_max, which would cap a burst of closes at a few hundred.
                socket.SetRawSocketOption(1 /* SOL_SOCKET */, 33, BitConverter.GetBytes(ReceiveQueueBytes));
            }
            catch (SocketException)
            {
                // without CAP_NET_ADMIN the capped queue is what there is
            }

            var groups = 0u;
            foreach (var (number, _) in Groups)
            {
                groups |= 1u << (number - 1);
            }

            // Bind with the groups, as ss -E does: an unbound netlink socket is not given multicast messages.
            if (NetlinkNative.BindGroups((int)socket.Handle, groups) != 0)
            {
                throw new SocketException(System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
            }

            whyNot = null;
            return socket;
        }
        catch (SocketException e)
        {
            socket?.Dispose();
            whyNot = e.SocketErrorCode is SocketError.AccessDenied or SocketError.OperationNotSupported || e.NativeErrorCode == 1
                ? "not permitted: socket-destroy notifications need CAP_NET_ADMIN (run as root or add the capability)"
                : $"socket-destroy notifications unavailable: {e.Message}";
            return null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            socket?.Dispose();
            whyNot = $"socket-destroy notifications unavailable: {e.Message}";
            return null;
        }
    }

    private const int ReceiveQueueBytes = 4 * 1024 * 1024;

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[256 * 1024];
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            int received;
            try
            {
                received = await _socket.ReceiveAsync(buffer, SocketFlags.None, token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.NoBufferSpaceAvailable)
            {
                Interlocked.Increment(ref _overruns); // ENOBUFS: the kernel dropped notifications; keep listening
                continue;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                break;
            }

            var seenAt = _time.GetUtcNow();

            ReadOnlySpan<byte> data = buffer.AsSpan(0, received);
            while (NetlinkReader.NextMessage(ref data, out var type, out _, out var payload, out var badLength))
            {
                if (badLength is not null)
                {
                    break;
                }

                if (type != SockDiagMessages.SockDiagByFamily || payload.Length < SockDiagMessages.InetDiagMessageLength)
                {
                    continue;
                }

                // The message does not name the protocol; read it from the INET_DIAG_PROTOCOL attribute.
                var protocol = ProtocolOf(payload);
                if (protocol is { } transport && SockDiagMessages.DecodeSocket(payload, transport) is { } socket
                    && !_channel.Writer.TryWrite(new DestroyedSocket(socket, seenAt)))
                {
                    Interlocked.Increment(ref _dropped);
                }
            }
        }

        _channel.Writer.TryComplete();
    }

    /// <summary>The INET_DIAG_PROTOCOL attribute (one byte) after the base message.</summary>
    internal static TransportProtocol? ProtocolOf(ReadOnlySpan<byte> payload)
    {
        var attributes = payload[SockDiagMessages.InetDiagMessageLength..];
        while (attributes.Length >= 4)
        {
            var length = BinaryPrimitives.ReadUInt16LittleEndian(attributes);
            var type = BinaryPrimitives.ReadUInt16LittleEndian(attributes[2..]);
            if (length < 4 || length > attributes.Length)
            {
                return null;
            }

            if (type == InetDiagProtocolAttribute && length >= 5)
            {
                return attributes[4] switch
                {
                    SockDiagMessages.IpProtoTcp => TransportProtocol.Tcp,
                    SockDiagMessages.IpProtoUdp => TransportProtocol.Udp,
                    _ => null,
                };
            }

            attributes = attributes[Math.Min((length + 3) & ~3, attributes.Length)..];
        }

        return null;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Dispose();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }
}
