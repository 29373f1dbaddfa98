using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace PortDashboard.EndToEnd.Tests.Fleet;

/// <summary>
/// A network namespace the test creates (<c>ip netns add pd-fleet-…</c>, <c>lo</c> up) and deletes. Sockets are opened
/// inside it from a dedicated thread that joined it with setns(2) (a socket stays in the namespace it was made in);
/// <see cref="SocketTableAsync"/> is <c>ip netns exec NS ss -tunaH</c>, the reference a host's table is compared with.
/// </summary>
public sealed partial class NetworkNamespace : IAsyncDisposable
{
    private const int CloneNewNet = 0x40000000;

    private readonly List<IDisposable> _sockets = [];

    private NetworkNamespace(string name) => Name = name;

    public string Name { get; }

    public static async Task<NetworkNamespace> CreateAsync(string suffix)
    {
        var name = $"pd-fleet-{suffix}-{Environment.ProcessId % 100000}";
        await RunAsync("ip", "netns", "del", name).ConfigureAwait(false); // a previous run's, if it was killed
        await CheckedAsync("ip", "netns", "add", name);
        await CheckedAsync("ip", "-n", name, "link", "set", "lo", "up");
        return new NetworkNamespace(name);
    }

    /// <summary>Inside the namespace: a TCP listener on <paramref name="address"/>:<paramref name="port"/>, and <paramref name="connections"/> connections to it.</summary>
    public void Listen(IPAddress address, int port, int connections) => Inside(() => Open(_sockets, address, port, connections));

    /// <summary>As <see cref="Listen"/>, but the caller closes them (the namespace still closes them if it goes first).</summary>
    public IDisposable ListenUntilDisposed(IPAddress address, int port, int connections)
    {
        var opened = new List<IDisposable>();
        Inside(() => Open(opened, address, port, connections));
        var closer = new Disposer(() =>
        {
            foreach (var socket in opened)
            {
                socket.Dispose();
            }
        });
        _sockets.Add(closer);
        return closer;
    }

    private static void Open(List<IDisposable> sockets, IPAddress address, int port, int connections)
    {
        var listener = new TcpListener(address, port);
        listener.Start();
        sockets.Add(new Disposer(listener.Stop));
        for (var i = 0; i < connections; i++)
        {
            var client = new TcpClient(AddressFamily.InterNetwork);
            client.Connect(IPAddress.Loopback, port);
            sockets.Add(client);
            sockets.Add(listener.AcceptSocket());
        }
    }

    /// <summary>Inside the namespace: a UDP socket bound to <paramref name="port"/> on every address.</summary>
    public void BindUdp(int port) => Inside(() => _sockets.Add(new UdpClient(new IPEndPoint(IPAddress.Any, port))));

    /// <summary><c>ip netns exec NS ss -tunaH</c> as (protocol, local, remote) in the API's notation: any address is <c>*</c>, no port is 0.</summary>
    public async Task<IReadOnlyList<(string Protocol, string Local, string Remote)>> SocketTableAsync()
    {
        var (code, output) = await RunAsync("ip", "netns", "exec", Name, "ss", "-tunaH");
        if (code != 0)
        {
            throw new InvalidOperationException($"ss in {Name} exited with {code}: {output}");
        }

        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(f => (f[0], Endpoint(f[4]), Endpoint(f[5])))];
    }

    /// <summary><c>0.0.0.0:6379</c> → <c>*:6379</c>, <c>0.0.0.0:*</c> → <c>*:0</c>, <c>[::1]:80</c> → <c>::1:80</c>.</summary>
    public static string Endpoint(string ss)
    {
        var colon = ss.LastIndexOf(':');
        var address = ss[..colon].Trim('[', ']');
        var port = ss[(colon + 1)..];
        address = address is "0.0.0.0" or "::" or "*" ? "*" : address.Split('%')[0];
        return $"{address}:{(port == "*" ? "0" : port)}";
    }

    private void Inside(Action action)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle($"/run/netns/{Name}");
                if (SetNs((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                {
                    throw new InvalidOperationException($"setns({Name}) failed: errno {Marshal.GetLastPInvokeError()}");
                }

                action();
            }
            catch (Exception e) when (e is InvalidOperationException or SocketException or IOException)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join(); // the thread, and its namespace, ends here; the sockets stay in it
        if (failure is not null)
        {
            throw new InvalidOperationException($"opening sockets in {Name}: {failure.Message}", failure);
        }
    }

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);

    public static async Task<(int Code, string Output)> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await error);
    }

    private static async Task CheckedAsync(string file, params string[] args)
    {
        var (code, output) = await RunAsync(file, args);
        if (code != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {code}: {output}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }

        await RunAsync("ip", "netns", "del", Name);
    }

    private sealed class Disposer(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
