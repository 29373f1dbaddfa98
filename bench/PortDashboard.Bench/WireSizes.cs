using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;
using PortDashboard.Api;
using PortDashboard.Core.Filtering;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Reading;
using PortDashboard.Core.Reading.Netlink;
using PortDashboard.Core.Sockets;
using PortDashboard.Hubs;

namespace PortDashboard.Bench;

/// <summary>
/// Sizes of the hub's messages on the wire for the current socket table: an idle tick, deltas of 10 changes and the
/// first (whole-table) snapshot, each as the server's hub protocols write it, plus a WebSocket frame header.
/// Compares the JSON the hub sends with JSON of short property names, JSON without nulls, and MessagePack.
/// </summary>
internal static class WireSizes
{
    public static int Run(Arguments args)
    {
        var netlink = NetlinkReader.TryCreate(out var whyNot) ?? throw new InvalidOperationException($"netlink refused: {whyNot}");
        var snapshot = new Snapshotter(netlink, new SnapshotterOptions()).Take();
        var mapper = new WireMapper(ServiceNameRegistry.LoadDefault(), showCommandLine: false);
        var connected = snapshot.Sockets.Where(s => s.State == SocketState.Established && !s.Owners.IsEmpty).Take(10).ToImmutableArray();
        if (connected.Length < 10)
        {
            connected = [.. snapshot.Sockets.Take(10)];
        }

        var at = snapshot.TakenAt;
        var before = at - TimeSpan.FromSeconds(1);
        var timeWait = connected.Select(s => new Socket(s.Protocol, s.Family, s.Local, s.Remote, SocketState.TimeWait, 0, s.Uid)).ToImmutableArray();
        var cases = new (string Name, Delta Delta)[]
        {
            ("idle tick (nothing changed)", new Delta(2, before, at, [], [], [])),
            ("10 changes: 10 sockets opened", new Delta(2, before, at, connected, [], [])),
            ("10 changes: 5 opened, 5 closed", new Delta(2, before, at, connected[..5], connected[5..], [])),
            ("10 changes: 5 closed into TIME_WAIT (5 added, 5 removed)", new Delta(2, before, at, timeWait[..5], connected[..5], [])),
            ("10 changes: 10 changed state", new Delta(2, before, at, [], [], [.. connected.Select(s => new SocketChange(s, s))])),
        };

        var protocols = new (string Name, IHubProtocol Protocol)[]
        {
            ("JSON (as sent)", Json(_ => { })),
            ("JSON, short names", Json(o => o.PropertyNamingPolicy = new ShortNames())),
            ("JSON, nulls left out", Json(o => o.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)),
            ("MessagePack", new MessagePackHubProtocol(Options.Create(new MessagePackHubProtocolOptions()))),
        };

        Console.WriteLine($"Hub messages for a table of {snapshot.Count} sockets, bytes on the wire (hub message + WebSocket frame header):");
        Console.WriteLine();
        Console.WriteLine($"| message | {string.Join(" | ", protocols.Select(p => p.Name))} |");
        Console.WriteLine($"|---|{string.Concat(protocols.Select(_ => "---:|"))}");
        foreach (var (name, delta) in cases)
        {
            var message = FilteredDelta.ToMessage([delta], snapshot, Filter.Empty, mapper);
            Console.WriteLine($"| {name} | {string.Join(" | ", protocols.Select(p => Size(p.Protocol, SocketsHub.DeltaMethod, message).ToString("N0", System.Globalization.CultureInfo.InvariantCulture)))} |");
        }

        var first = mapper.Snapshot(snapshot, 1, Filter.Empty);
        Console.WriteLine($"| first message: the whole table ({snapshot.Count} sockets) | {string.Join(" | ", protocols.Select(p => Size(p.Protocol, SocketsHub.SnapshotMethod, first).ToString("N0", System.Globalization.CultureInfo.InvariantCulture)))} |");
        return 0;
    }

    private static JsonHubProtocol Json(Action<JsonSerializerOptions> configure)
    {
        var options = new JsonHubProtocolOptions();
        configure(options.PayloadSerializerOptions);
        return new JsonHubProtocol(Options.Create(options));
    }

    private static int Size(IHubProtocol protocol, string method, object message)
    {
        var bytes = protocol.GetMessageBytes(new InvocationMessage(method, [message])).Length;
        return bytes + WebSocketHeader(bytes);
    }

    /// <summary>A server-to-client frame header (unmasked): 2 bytes, 4 past 125 bytes, 10 past 65,535.</summary>
    public static int WebSocketHeader(long payload) => payload <= 125 ? 2 : payload <= 65_535 ? 4 : 10;

    /// <summary>One or two letters per property, unique within each shape: what "short property names" would send.</summary>
    private sealed class ShortNames : JsonNamingPolicy
    {
        private static readonly Dictionary<string, string> Names = new(StringComparer.Ordinal)
        {
            ["FromSequence"] = "f", ["ToSequence"] = "t", ["TakenAt"] = "at", ["Added"] = "a", ["Removed"] = "r", ["Changed"] = "c",
            ["Id"] = "i", ["Protocol"] = "p", ["Family"] = "f", ["Local"] = "l", ["Remote"] = "r", ["State"] = "s", ["Inode"] = "n",
            ["Uid"] = "u", ["Owners"] = "o", ["Queues"] = "q", ["Address"] = "a", ["Port"] = "p", ["Range"] = "g",
            ["OsEphemeral"] = "e", ["Privileged"] = "v", ["Service"] = "s", ["Pid"] = "p", ["Name"] = "n", ["User"] = "u",
            ["CommandLine"] = "c", ["Transmit"] = "t", ["Receive"] = "r",
        };

        public override string ConvertName(string name) => Names.TryGetValue(name, out var shortName) ? shortName : CamelCase.ConvertName(name);
    }
}
