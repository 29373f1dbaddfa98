using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using PortDashboard.Core.Filtering;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Reading.Netlink;
using PortDashboard.Core.Sockets;
using PortDashboard.Hubs;
using PortDashboard.Insight.History;
using Endpoint = PortDashboard.Core.Sockets.Endpoint;

namespace PortDashboard.Fuzz;

/// <summary>The targets' names, apart from <see cref="Targets"/>: reading them runs no instrumented code.</summary>
internal static class TargetNames
{
    public static IReadOnlyList<string> All { get; } = ["procnet", "netlink", "procpid", "filter", "hub", "history"];
}

/// <summary>
/// One entry per parser of input someone else controls. Each feeds the bytes to the parser exactly as the app does
/// and throws only when the parser breaks its contract: an exception other than the one it documents for bad input,
/// or a result that contradicts another path (both /proc/net paths, a filter and its URL form).
/// </summary>
internal static class Targets
{
    public const int MaxInput = 64 * 1024;

    public static void Run(string name, byte[] input) => All[name](input);

    private static readonly Dictionary<string, Action<byte[]>> All = new()
    {
        ["procnet"] = ProcNet,
        ["netlink"] = Netlink,
        ["procpid"] = ProcPid,
        ["filter"] = FilterQuery,
        ["hub"] = HubArguments,
        ["history"] = HistoryParameters,
    };

    private static readonly (TransportProtocol Protocol, IpVersion Family)[] Tables =
        [(TransportProtocol.Tcp, IpVersion.IPv4), (TransportProtocol.Tcp, IpVersion.IPv6), (TransportProtocol.Udp, IpVersion.IPv4), (TransportProtocol.Udp, IpVersion.IPv6)];

    private static readonly Socket[] Sample =
    [
        new(TransportProtocol.Tcp, IpVersion.IPv4, new Endpoint(NetAddress.Parse("127.0.0.1"), 8080), new Endpoint(NetAddress.Parse("0.0.0.0"), 0),
            SocketState.Listen, 1001, 0, owners: [new ProcessInfo(42, 7, "nginx: worker", 0, "root")]),
        new(TransportProtocol.Tcp, IpVersion.IPv6, new Endpoint(NetAddress.Parse("::1"), 50000), new Endpoint(NetAddress.Parse("::1"), 443),
            SocketState.Established, 1002, 1000, 5, 9, owners: [new ProcessInfo(7, 1, "curl", 1000, "ann"), new ProcessInfo(8, 2, "sh", 1000, "ann")]),
        new(TransportProtocol.Udp, IpVersion.IPv4, new Endpoint(NetAddress.Parse("10.1.2.3"), 53), new Endpoint(NetAddress.Parse("0.0.0.0"), 0),
            SocketState.Close, 1003, 101),
        new(TransportProtocol.Tcp, IpVersion.IPv4, new Endpoint(NetAddress.Parse("192.168.0.9"), 40000), new Endpoint(NetAddress.Parse("8.8.8.8"), 80),
            SocketState.TimeWait, 0, 0),
    ];

    /// <summary>A /proc/net/{tcp,tcp6,udp,udp6} file (the first byte picks which); every line also through the slow path.</summary>
    private static void ProcNet(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }

        var (protocol, family) = Tables[input[0] & 3];
        var content = input.AsSpan(1);
        var sockets = new List<Socket>();
        ProcNetParser.Parse(content, protocol, family, sockets, new MalformedInput(), "fuzz");
        foreach (var range in content.Split((byte)'\n'))
        {
            var line = content[range];
            var fast = ProcNetParser.TryParseLine(line, protocol, family, out var a);
            var slow = ProcNetParser.TryParseLine(line, protocol, family, out var b, kernelLayoutFirst: false);
            if ((a is null) != (b is null) || (a is not null && !Same(a, b!)) || (a is null && (fast is null) != (slow is null)))
            {
                throw new InvalidOperationException($"the kernel-layout path and the column path disagree on '{Encoding.UTF8.GetString(line)}': {fast} / {slow}");
            }
        }
    }

    /// <summary>One datagram of a sock_diag dump or of the destroy notifications, walked as the readers walk it.</summary>
    private static void Netlink(byte[] input)
    {
        ReadOnlySpan<byte> data = input;
        var malformed = new MalformedInput();
        var sockets = new List<Socket>();
        while (NetlinkReader.NextMessage(ref data, out var type, out _, out var payload, out var badLength))
        {
            if (badLength is not null)
            {
                break;
            }

            switch (type)
            {
                case SockDiagMessages.NlmsgError:
                    _ = payload.Length >= 4 ? -BinaryPrimitives.ReadInt32LittleEndian(payload) : 0;
                    break;
                case SockDiagMessages.SockDiagByFamily or SockDiagMessages.TcpDiagGetSock:
                    // The dump reader (NetlinkReader.Dump) ...
                    var socket = SockDiagMessages.DecodeSocket(payload, TransportProtocol.Tcp);
                    if (socket is null)
                    {
                        malformed.Add("fuzz", "short", payload);
                        break;
                    }

                    sockets.Add(socket);
                    _ = SockDiagMessages.ReadCookie(payload);
                    _ = SockDiagMessages.ReadInode(payload);
                    // ... and the destroy watcher, which reads the protocol from the attributes.
                    if (SocketDestroyWatcher.ProtocolOf(payload) is { } transport)
                    {
                        _ = SockDiagMessages.DecodeSocket(payload, transport);
                    }

                    break;
            }
        }

        DestroyedCookies.Collect(input, []);
    }

    /// <summary>/proc/&lt;pid&gt;/stat, status, or an fd link target (the first byte picks which).</summary>
    private static void ProcPid(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }

        var text = input.AsSpan(1);
        switch (input[0] % 3)
        {
            case 0:
                _ = ProcessResolver.TryParseStartTime(text, out _);
                _ = ProcessResolver.CommandNameFromStat(text);
                break;
            case 1:
                if (ProcessResolver.TryParseUid(text, out var uid) && uid < 0)
                {
                    throw new InvalidOperationException($"a negative uid {uid} was accepted");
                }

                break;
            default:
                if (ProcessResolver.TryParseSocketInode(text, out var inode) && inode <= 0)
                {
                    throw new InvalidOperationException($"inode {inode} was accepted");
                }

                break;
        }
    }

    /// <summary>A filter query string as pages, API, CSV and hub take it: its URL form must parse back to the same filter.</summary>
    private static void FilterQuery(byte[] input)
    {
        var query = Encoding.UTF8.GetString(input);
        if (!Filter.TryParse(query, out var filter, out _))
        {
            return;
        }

        CheckCanonical(filter, query);
    }

    /// <summary>A hub invocation frame (JSON or MessagePack, by the first byte) as the server binds it, then Subscribe's filter.</summary>
    private static void HubArguments(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }

        IHubProtocol protocol = (input[0] & 1) == 0 ? JsonProtocol : MessagePackProtocol;
        var frame = new ReadOnlySequence<byte>(input, 1, input.Length - 1);
        while (true)
        {
            HubMessage? message;
            try
            {
                if (!protocol.TryParseMessage(ref frame, Binder, out message))
                {
                    return;
                }
            }
            catch (Exception)
            {
                // The framework's frame parser refused the bytes (InvalidDataException, invalid UTF-8, a bad msgpack
                // code): the server closes that one connection (HubProtocolAbuseTests pins it), the rest go on.
                return;
            }

            if (message is InvocationMessage { Target: nameof(SocketsHub.Subscribe), Arguments: [var argument] })
            {
                try
                {
                    CheckCanonical(Filter.Parse((string?)argument), (string?)argument);
                }
                catch (FilterException)
                {
                    // Subscribe answers a HubException carrying this message.
                }
            }
        }
    }

    /// <summary>The query string of GET /api/history: its filter and from, to, limit.</summary>
    private static void HistoryParameters(byte[] input)
    {
        var queryString = Encoding.UTF8.GetString(input);
        var query = new QueryCollection(QueryHelpers.ParseQuery(queryString));
        if (HistoryQuery.TryParse(queryString, query, Now, out var parsed, out var refusal))
        {
            if (parsed.From > parsed.To || parsed.Limit is < 1 or > Insight.InsightApi.MaxLimit)
            {
                throw new InvalidOperationException($"accepted a window {parsed.From}..{parsed.To} or a limit {parsed.Limit}");
            }

            _ = HistoryTime.Format(parsed.From) + HistoryTime.Format(parsed.To);
        }
        else if (string.IsNullOrEmpty(refusal.Detail) || string.IsNullOrEmpty(refusal.Title))
        {
            throw new InvalidOperationException("refused without saying why");
        }
    }

    private static readonly DateTimeOffset Now = new(2026, 12, 7, 2, 0, 0, TimeSpan.Zero);

    private static void CheckCanonical(Filter filter, string? query)
    {
        var canonical = filter.ToQueryString();
        var again = Filter.Parse(canonical);
        if (again.ToQueryString() != canonical)
        {
            throw new InvalidOperationException($"'{query}' gives '{canonical}', which parses to '{again.ToQueryString()}'");
        }

        foreach (var socket in Sample)
        {
            if (filter.Matches(socket) != again.Matches(socket))
            {
                throw new InvalidOperationException($"'{query}' and its URL form '{canonical}' disagree on {socket.Key}");
            }
        }
    }

    private static bool Same(Socket a, Socket b) =>
        a.Key == b.Key && a.Family == b.Family && a.State == b.State && a.Uid == b.Uid
        && a.TransmitQueue == b.TransmitQueue && a.ReceiveQueue == b.ReceiveQueue;

    private static readonly JsonHubProtocol JsonProtocol = new();

    private static readonly MessagePackHubProtocol MessagePackProtocol = new(Options.Create(new MessagePackHubProtocolOptions()));

    private static readonly SubscribeBinder Binder = new();

    /// <summary>What the server knows of the hub's methods: Subscribe takes one string, Unsubscribe none.</summary>
    private sealed class SubscribeBinder : IInvocationBinder
    {
        public IReadOnlyList<Type> GetParameterTypes(string methodName) => methodName switch
        {
            nameof(SocketsHub.Subscribe) => [typeof(string)],
            nameof(SocketsHub.Unsubscribe) => [],
            _ => throw new HubException($"Method '{methodName}' does not exist."),
        };

        public Type GetReturnType(string invocationId) => typeof(object);

        public Type GetStreamItemType(string streamId) => throw new HubException("no streams");
    }
}
