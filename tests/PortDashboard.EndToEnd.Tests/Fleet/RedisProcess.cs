using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace PortDashboard.EndToEnd.Tests.Fleet;

/// <summary>
/// A <c>redis-server</c> of the test's own: a free loopback port and a unix socket (which agents in a network namespace
/// reach; they cannot reach the host's loopback), nothing saved to disk. Stopped by its pid; <see cref="RestartAsync"/>
/// starts an empty one on the same port and socket, as a Redis restart without persistence does.
/// </summary>
public sealed class RedisProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    private readonly string _directory = Directory.CreateTempSubdirectory("pd-fleet-redis-").FullName;
    private Process? _process;

    private readonly string[] _extra;

    private RedisProcess(int port, string[] extra)
    {
        _extra = extra;
        Port = port;
        SocketPath = Path.Combine(_directory, "redis.sock");
    }

    public int Port { get; }

    public string SocketPath { get; }

    /// <summary>The dashboard's configuration value (TCP on loopback).</summary>
    public string TcpConfiguration => $"127.0.0.1:{Port}";

    /// <summary>Starts one; <paramref name="extra"/> are more arguments (<c>--requirepass x</c>).</summary>
    public static async Task<RedisProcess> StartAsync(params string[] extra)
    {
        var redis = new RedisProcess(FreeLoopbackPort(), extra);
        await redis.StartProcessAsync();
        return redis;
    }

    public async Task StopAsync()
    {
        if (_process is { } process)
        {
            if (!process.HasExited)
            {
                process.Kill();
                await process.WaitForExitAsync();
            }

            process.Dispose();
            _process = null;
        }
    }

    public async Task RestartAsync()
    {
        await StopAsync();
        await StartProcessAsync();
    }

    private async Task StartProcessAsync()
    {
        File.Delete(SocketPath);
        var start = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory,
        };
        foreach (var arg in (string[])["--bind", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--save", "", "--appendonly", "no", "--unixsocket", SocketPath, "--unixsocketperm", "777", "--dir", _directory, .. _extra])
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with {_process.ExitCode} (is it installed? scripts/test.sh installs it)");
            }

            if (File.Exists(SocketPath) && await AnswersAsync())
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"redis-server did not listen on 127.0.0.1:{Port} within {StartTimeout.TotalSeconds} s");
            }

            await Task.Delay(50); // polling interval of a condition with a deadline
        }
    }

    private async Task<bool> AnswersAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer);
            return read > 0 && (buffer[0] == (byte)'+' || buffer[0] == (byte)'-'); // -NOAUTH: up, wants a password
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
