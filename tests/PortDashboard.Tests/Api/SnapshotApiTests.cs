using System.Net;
using System.Text.Json;
using PortDashboard.Api;
using PortDashboard.Core.Filtering;
using PortDashboard.Tests.Support;

namespace PortDashboard.Tests.Api;

/// <summary>The HTTP API of the real app on a real Kestrel port, reading this machine's socket table.</summary>
public sealed class SnapshotApiTests(WebHostFixture host) : IClassFixture<WebHostFixture>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Host_matches_this_nodes_own_name_and_no_other()
    {
        using var listener = new BoundSocket();
        listener.Listen();
        var json = await host.WaitForSockets($"port={listener.Port}&state=listen", $"the listener on port {listener.Port} is in the snapshot");
        var name = json.GetProperty("metadata").GetProperty("hostName").GetString()!;

        var mine = await host.GetJson($"/api/snapshot?port={listener.Port}&state=listen&host={Uri.EscapeDataString(name.ToUpperInvariant())}");
        Assert.Single(mine.GetProperty("sockets").EnumerateArray());
        var other = await host.GetJson($"/api/snapshot?port={listener.Port}&host=not-{Uri.EscapeDataString(name)}");
        Assert.Empty(other.GetProperty("sockets").EnumerateArray());
        Assert.Equal($"port={listener.Port}&host=not-{name.ToLowerInvariant()}", other.GetProperty("filter").GetString());
    }

    [Fact]
    public async Task The_snapshot_holds_only_the_sockets_the_filter_selects_in_the_documented_shape()
    {
        using var listener = new BoundSocket();
        listener.Listen();
        var port = listener.Port;

        var json = await host.WaitForSockets($"port={port}&state=listen", $"the listener on port {port} is in the snapshot");

        Assert.True(json.GetProperty("sequence").GetInt64() > 0);
        Assert.Equal($"state=listen&port={port}", json.GetProperty("filter").GetString());
        Assert.True(json.GetProperty("total").GetInt32() > json.GetProperty("sockets").GetArrayLength(), "total counts the whole table");
        var metadata = json.GetProperty("metadata");
        Assert.False(string.IsNullOrEmpty(metadata.GetProperty("hostName").GetString()));
        Assert.False(string.IsNullOrEmpty(metadata.GetProperty("reader").GetString()));
        Assert.True(metadata.GetProperty("takenAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-1));
        Assert.Matches("^(complete|partial|unavailable)$", metadata.GetProperty("attribution").GetProperty("completeness").GetString());
        var policy = metadata.GetProperty("portPolicy");
        Assert.True(policy.GetProperty("ephemeralFirst").GetInt32() <= policy.GetProperty("ephemeralLast").GetInt32());

        var socket = Assert.Single(json.GetProperty("sockets").EnumerateArray());
        Assert.Equal("tcp", socket.GetProperty("protocol").GetString());
        Assert.Equal("ipv4", socket.GetProperty("family").GetString());
        Assert.Equal("listen", socket.GetProperty("state").GetString());
        var inode = socket.GetProperty("inode").GetInt64();
        Assert.True(inode > 0);
        Assert.Equal($"tcp/127.0.0.1:{port}/*:*/{inode}", socket.GetProperty("id").GetString());

        var local = socket.GetProperty("local");
        Assert.Equal("127.0.0.1", local.GetProperty("address").GetString());
        Assert.Equal(port, local.GetProperty("port").GetInt32());
        Assert.Equal(port > 49151 ? "ephemeral" : "registered", local.GetProperty("range").GetString());
        var osEphemeral = port >= policy.GetProperty("ephemeralFirst").GetInt32() && port <= policy.GetProperty("ephemeralLast").GetInt32();
        Assert.Equal(osEphemeral, local.GetProperty("osEphemeral").GetBoolean());
        Assert.False(local.GetProperty("privileged").GetBoolean());
        Assert.True(local.TryGetProperty("service", out _));

        var remote = socket.GetProperty("remote");
        Assert.Equal("*", remote.GetProperty("address").GetString());
        Assert.Equal(0, remote.GetProperty("port").GetInt32());
        Assert.Equal(JsonValueKind.Null, remote.GetProperty("range").ValueKind);

        // This test process can always read its own descriptors, whatever happens to others'.
        var owner = Assert.Single(socket.GetProperty("owners").EnumerateArray(), o => o.GetProperty("pid").GetInt32() == Environment.ProcessId);
        Assert.False(string.IsNullOrEmpty(owner.GetProperty("name").GetString()));
        Assert.False(string.IsNullOrEmpty(owner.GetProperty("user").GetString()));
        Assert.Equal(0, socket.GetProperty("queues").GetProperty("receive").GetInt64());
    }

    [Fact]
    public async Task The_csv_has_a_header_row_and_one_quoted_row_per_socket()
    {
        using var listener = new BoundSocket();
        listener.Listen();
        var port = listener.Port;
        await host.WaitForSockets($"port={port}&state=listen", $"the listener on port {port} is in the snapshot");

        using var response = await host.Client.GetAsync(new Uri($"/api/snapshot.csv?port={port}&state=listen", UriKind.Relative), Cancellation);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync(Cancellation);

        var lines = text.Split("\r\n");
        Assert.Equal(3, lines.Length); // header, one row, and the empty string after the last CRLF
        Assert.Equal(SnapshotCsv.Header, lines[0] + "\r\n");
        Assert.StartsWith("id,protocol,family,local_address,local_port,local_range,", lines[0], StringComparison.Ordinal);
        var fields = lines[1].Split(',');
        Assert.Equal(lines[0].Split(',').Length, fields.Length);
        Assert.Equal(("tcp", "127.0.0.1", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "listen"), (fields[1], fields[3], fields[4], fields[15]));
        Assert.Equal("", lines[2]);
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("", "")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("two\nlines", "\"two\nlines\"")]
    [InlineData(" padded", "\" padded\"")]
    public void Csv_fields_are_quoted_only_when_they_need_it(string value, string expected) =>
        Assert.Equal(expected, SnapshotCsv.Quote(value));

    [Theory]
    [InlineData("range=bogus", "range")]
    [InlineData("port=99999", "port")]
    [InlineData("proto=sctp", "proto")]
    [InlineData("address=10.0.0.0/99", "address")]
    [InlineData("colour=red", "colour")]
    public async Task A_bad_filter_is_a_400_problem_naming_the_parameter(string query, string parameter)
    {
        var expected = Assert.Throws<FilterException>(() => Filter.Parse(query));
        foreach (var path in new[] { "/api/snapshot?", "/api/snapshot.csv?" })
        {
            using var response = await host.Client.GetAsync(new Uri(path + query, UriKind.Relative), Cancellation);

            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation));
            Assert.Equal(400, problem.RootElement.GetProperty("status").GetInt32());
            Assert.Equal(expected.Message, problem.RootElement.GetProperty("detail").GetString());
            Assert.Equal(parameter, problem.RootElement.GetProperty("parameter").GetString());
        }
    }

    [Fact]
    public async Task Healthz_is_healthy_while_snapshots_are_fresh()
    {
        await Eventually.WaitUntil(() => host.GetService<PortDashboard.Monitoring.ISnapshotFeed>().Sequence > 0, "the first snapshot");

        using var response = await host.Client.GetAsync(new Uri("/healthz", UriKind.Relative), Cancellation);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Cancellation));
        Assert.Equal("Healthy", body.RootElement.GetProperty("status").GetString());
        Assert.StartsWith("the last snapshot is", body.RootElement.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, body.RootElement.GetProperty("consecutiveFailures").GetInt32());
    }
}
