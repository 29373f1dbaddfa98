using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using PortDashboard.Api;
using PortDashboard.Tests.Support;

namespace PortDashboard.Tests.Api;

/// <summary>A real loopback transfer of a known size, and the tcp_info figures the API and the CSV give for it.</summary>
public sealed class TcpInfoApiTests(WebHostFixture host) : IClassFixture<WebHostFixture>
{
    private const int Sent = 250_000;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_servers_row_shows_the_bytes_received_within_a_poll_and_the_rates_once_known()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port, Cancellation);
            using var accepted = await listener.AcceptSocketAsync(Cancellation);
            await client.GetStream().WriteAsync(new byte[Sent], Cancellation);
            var buffer = new byte[65536];
            for (var got = 0; got < Sent;)
            {
                got += await accepted.ReceiveAsync(buffer, Cancellation);
            }

            JsonElement tcp = default;
            await Eventually.WaitUntil(async () =>
            {
                var json = await host.GetJson($"/api/snapshot?port={port}&state=established&side=local");
                var sockets = json.GetProperty("sockets");
                if (sockets.GetArrayLength() != 1 || json.GetProperty("metadata").GetProperty("reader").GetString() != "netlink")
                {
                    return false;
                }

                tcp = sockets[0].GetProperty("tcp");
                return tcp.ValueKind == JsonValueKind.Object && tcp.GetProperty("bytesReceived").GetUInt64() >= Sent
                    && tcp.GetProperty("receivedPerSecond").ValueKind == JsonValueKind.Number;
            }, $"the server end of port {port} shows {Sent} bytes received and a known rate");

            Assert.True(tcp.GetProperty("congestionWindow").GetInt64() > 0);
            Assert.True(tcp.GetProperty("rttMs").GetDouble() > 0);
            Assert.Equal(0, tcp.GetProperty("retransmits").GetInt64());

            var csv = await host.Client.GetStringAsync(new Uri($"/api/snapshot.csv?port={port}&state=established&side=local", UriKind.Relative), Cancellation);
            var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
            var header = lines[0].Split(',');
            Assert.Equal("receive_queue", header[22]); // the older columns keep their places
            Assert.Equal("sent_per_second", header[^6]);
            Assert.Equal(["first_seen", "seen_at_start"], header[^5..^3]); // appended after the TCP columns
            Assert.Equal(["netns", "netns_inode", "container"], header[^3..]); // and the namespace after them
            var row = lines[1].Split(',');
            Assert.True(DateTimeOffset.TryParse(row[^5], System.Globalization.CultureInfo.InvariantCulture, out _), $"first_seen '{row[^5]}' is a time");
            Assert.Equal("false", row[^4]); // opened after the service started
            Assert.Equal("host", row[^3]); // namespace reading is off: the host's, inode unknown
            Assert.True(ulong.Parse(row[Array.IndexOf(header, "bytes_received")], System.Globalization.CultureInfo.InvariantCulture) >= Sent);
        }
        finally
        {
            listener.Stop();
        }
    }

    [Fact]
    public void A_socket_without_tcp_info_has_empty_csv_fields_not_zeros()
    {
        var socket = new SocketDto("udp/*:53/*:*/1", "udp", "ipv4",
            new EndpointDto("*", 53, "wellknown", false, true, "domain"), new EndpointDto("*", 0, null, false, false, null),
            "unconnected", 1, 0, [], new QueuesDto(0, 0));

        var row = SnapshotCsv.Row(socket).TrimEnd('\r', '\n').Split(',');

        Assert.Equal(SnapshotCsv.Header.TrimEnd('\r', '\n').Split(',').Length, row.Length);
        Assert.All(row[^16..^5], field => Assert.Equal("", field));
        Assert.Equal(["", "false"], row[^5..^3]); // no record of when it was first seen
        Assert.Equal(["host", "", ""], row[^3..]); // a dto without a namespace is the host's
    }
}
