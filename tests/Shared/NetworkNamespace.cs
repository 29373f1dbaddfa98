using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace PortDashboard.Testing;

/// <summary>
/// A network namespace the test creates (<c>ip netns add PREFIX-SUFFIX-PID</c>, <c>lo</c> up) and deletes. Sockets are
/// opened inside it from a dedicated thread that joined it with setns(2) (a socket stays in the namespace it was made in);
/// <see cref="StartProcessAsync"/> runs a process inside (<c>ip netns exec</c>), so that <c>/proc/&lt;pid&gt;/ns/net</c>
/// leads to it too; <see cref="SocketTableAsync"/> is <c>ip netns exec NS ss -tunaH</c>, the reference a table is
/// compared with. Shared by the test projects (linked, not copied). Needs root.
/// </summary>
public sealed partial class NetworkNamespace : IAsyncDisposable
{
    private const int CloneNewNet = 0x40000000;

    private readonly List<IDisposable> _sockets = [];
    private readonly List<Process> _processes = [];

    private NetworkNamespace(string name) => Name = name;

    public string Name { get; }

    /// <summary>The fleet tests' namespaces: <c>pd-fleet-SUFFIX-PID</c>.</summary>
    public static Task<NetworkNamespace> CreateAsync(string suffix) => CreateAsync("pd-fleet", suffix);

    /// <summary>
    /// <c>PREFIX-SUFFIX-PID</c>, with <c>lo</c> up. Namespaces of the same prefix left by a run that was killed (its pid is
    /// gone) are deleted first.
    /// </summary>
    public static async Task<NetworkNamespace> CreateAsync(string prefix, string suffix)
    {
        var name = $"{prefix}-{suffix}-{Environment.ProcessId % 100000}";
        await DeleteLeftoversAsync(prefix).ConfigureAwait(false);
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

    /// <summary>Deletes <c>PREFIX-*-PID</c> namespaces whose pid is no longer running: what a killed test run left.</summary>
    public static async Task DeleteLeftoversAsync(string prefix)
    {
        var (_, output) = await RunAsync("ip", "netns", "list").ConfigureAwait(false);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var name = line.Split(' ')[0];
            var pid = name[(name.LastIndexOf('-') + 1)..];
            if (name.StartsWith(prefix + "-", StringComparison.Ordinal) && int.TryParse(pid, out var number)
                && number != Environment.ProcessId % 100000 && !Directory.Exists($"/proc/{number}"))
            {
                await RunAsync("ip", "netns", "del", name).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="file"/> inside the namespace (<c>ip netns exec NS file args...</c>, which execs it: the pid is
    /// the program's); killed when the namespace is disposed.
    /// </summary>
    public Process StartProcess(string file, params string[] args)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])["netns", "exec", Name, file, .. args])
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"ip netns exec {Name} {file} did not start");
        _processes.Add(process);
        return process;
    }

    /// <summary>
    /// A python3 process inside the namespace holding a TCP listener on 127.0.0.1:<paramref name="port"/> (with one
    /// connection to it) and a UDP socket on <paramref name="udpPort"/>; returns once they are open (it prints "ready").
    /// </summary>
    public async Task<Process> StartProcessAsync(int port, int udpPort)
    {
        const string Script = """
            import socket, sys
            l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(("127.0.0.1", int(sys.argv[1]))); l.listen()
            c = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); a, _ = l.accept()
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", int(sys.argv[2])))
            print("ready", flush=True)
            sys.stdin.read()
            """;
        var process = StartProcess("python3", "-c", Script, port.ToString(System.Globalization.CultureInfo.InvariantCulture), udpPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        if (line != "ready")
        {
            throw new InvalidOperationException($"the helper in {Name} did not start: {await process.StandardError.ReadToEndAsync().ConfigureAwait(false)}");
        }

        return process;
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
        foreach (var process in _processes)
        {
            try
            {
                process.Kill();
                await process.WaitForExitAsync().ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                // exited already
            }

            process.Dispose();
        }

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
