using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

// Opens N loopback TCP connections (2N sockets) spread over several listener ports and 127.0.0.x addresses,
// churns K connections per second on request, and stops by itself after a set duration.
// The hard open-file limit here is 20,000 per process, so the parent spreads the connections over child processes,
// each holding at most --per-process connections (2 descriptors each: the client end and the accepted end).
//
//   PortDashboard.LoadGenerator --connections 50000 --churn 100 --duration 300
//
// Prints "ready <connections>" once every connection is open, then "done" when it stops.

var options = LoadOptions.Parse(args);
if (options.ChildIndex is int child)
{
    return await Child.RunAsync(options, child);
}

return await Parent.RunAsync(options);

internal sealed record LoadOptions(
    int Connections,
    int ChurnPerSecond,
    TimeSpan Duration,
    int ListenerPorts,
    int Addresses,
    int BasePort,
    int PerProcess,
    int? ChildIndex)
{
    public static LoadOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"expected --option value, got '{args[i]}'");
            }

            values[args[i][2..]] = args[i + 1];
        }

        int Int(string name, int fallback) =>
            values.TryGetValue(name, out var text) ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

        var options = new LoadOptions(
            Connections: Int("connections", 1000),
            ChurnPerSecond: Int("churn", 0),
            Duration: TimeSpan.FromSeconds(Int("duration", 60)),
            ListenerPorts: Int("listeners", 8),
            Addresses: Int("addresses", 4),
            BasePort: Int("base-port", 20000),
            PerProcess: Int("per-process", 4500),
            ChildIndex: values.TryGetValue("child", out var c) ? int.Parse(c, CultureInfo.InvariantCulture) : null);
        if (options.Connections < 0 || options.Connections > 60_000)
        {
            throw new ArgumentException("--connections must be between 0 and 60000");
        }

        if (options.Duration <= TimeSpan.Zero || options.Duration > TimeSpan.FromHours(2))
        {
            throw new ArgumentException("--duration must be between 1 s and 2 h: a load test stops by itself");
        }

        return options;
    }
}

internal static class Parent
{
    public static async Task<int> RunAsync(LoadOptions options)
    {
        var children = Math.Max(1, (options.Connections + options.PerProcess - 1) / options.PerProcess);
        var self = Environment.ProcessPath!;
        var selfArgs = Environment.GetCommandLineArgs()[0].EndsWith(".dll", StringComparison.Ordinal) ? $"\"{Environment.GetCommandLineArgs()[0]}\" " : "";
        var processes = new List<Process>();
        var readyCount = 0;
        var allReady = new TaskCompletionSource();
        var opened = 0;
        for (var i = 0; i < children; i++)
        {
            var share = options.Connections / children + (i < options.Connections % children ? 1 : 0);
            var churn = options.ChurnPerSecond / children + (i < options.ChurnPerSecond % children ? 1 : 0);
            var start = new ProcessStartInfo(self,
                $"{selfArgs}--child {i} --connections {share} --churn {churn} --duration {(int)options.Duration.TotalSeconds} " +
                $"--listeners {options.ListenerPorts} --addresses {options.Addresses} --base-port {options.BasePort}")
            {
                RedirectStandardOutput = true,
                RedirectStandardInput = true, // never written: a child stops when it reads the end, i.e. when the parent is gone
                UseShellExecute = false,
            };
            var process = Process.Start(start)!;
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is { } line && line.StartsWith("ready ", StringComparison.Ordinal))
                {
                    Interlocked.Add(ref opened, int.Parse(line[6..], CultureInfo.InvariantCulture));
                    if (Interlocked.Increment(ref readyCount) == children)
                    {
                        allReady.TrySetResult();
                    }
                }
                else if (e.Data is { } other)
                {
                    Console.Error.WriteLine($"[child] {other}");
                }
            };
            process.BeginOutputReadLine();
            processes.Add(process);
        }

        // SIGTERM (what scripts send: a background job ignores SIGINT) or Ctrl+C: stop the children, which then exit.
        void StopChildren(PosixSignalContext context)
        {
            context.Cancel = true;
            foreach (var p in processes)
            {
                try { p.Kill(); } catch (InvalidOperationException) { }
            }
        }

        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, StopChildren);
        using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, StopChildren);

        var exited = Task.WhenAll(processes.Select(p => p.WaitForExitAsync()));
        if (await Task.WhenAny(allReady.Task, exited) == allReady.Task)
        {
            Console.WriteLine($"ready {Volatile.Read(ref opened)}");
        }

        await exited;
        Console.WriteLine("done");
        return processes.All(p => p.ExitCode == 0) ? 0 : 1;
    }
}

internal static class Child
{
    public static async Task<int> RunAsync(LoadOptions options, int index)
    {
        using var stop = new CancellationTokenSource(options.Duration);
        _ = Task.Run(async () =>
        {
            await Console.In.ReadToEndAsync(); // the parent holds the other end: it exited, however it ended
            await stop.CancelAsync();
        });
        var listeners = new List<TcpListener>();
        for (var i = 0; i < options.ListenerPorts; i++)
        {
            var address = IPAddress.Parse($"127.0.{index % 250}.{1 + (i % Math.Max(1, options.Addresses))}");
            var listener = new TcpListener(address, options.BasePort + (index * options.ListenerPorts) + i);
            listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Start(4096);
            listeners.Add(listener);
            _ = AcceptLoopAsync(listener, stop.Token);
        }

        var connections = new List<System.Net.Sockets.Socket>(options.Connections);
        for (var i = 0; i < options.Connections; i++)
        {
            connections.Add(await ConnectAsync(listeners[i % listeners.Count], stop.Token));
        }

        Console.WriteLine($"ready {connections.Count}");

        if (options.ChurnPerSecond > 0)
        {
            // Every 100 ms, close a tenth of the churn's connections (client first: its end enters TIME_WAIT)
            // and open as many new ones.
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
            var random = new Random(index);
            var carry = 0.0;
            try
            {
                while (await timer.WaitForNextTickAsync(stop.Token))
                {
                    carry += options.ChurnPerSecond / 10.0;
                    var now = (int)carry;
                    carry -= now;
                    for (var i = 0; i < now && connections.Count > 0; i++)
                    {
                        var victim = random.Next(connections.Count);
                        connections[victim].Close();
                        connections[victim] = await ConnectAsync(listeners[random.Next(listeners.Count)], stop.Token);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }
        else
        {
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }

        foreach (var connection in connections)
        {
            connection.Close();
        }

        foreach (var listener in listeners)
        {
            listener.Stop();
        }

        return 0;
    }

    private static async Task<System.Net.Sockets.Socket> ConnectAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        var socket = new System.Net.Sockets.Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(listener.LocalEndpoint, cancellationToken);
        return socket;
    }

    private static async Task AcceptLoopAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        var accepted = new List<System.Net.Sockets.Socket>();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var socket = await listener.AcceptSocketAsync(cancellationToken);
                accepted.Add(socket);
                _ = DrainAsync(socket, cancellationToken);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            foreach (var socket in accepted)
            {
                socket.Dispose();
            }
        }
    }

    /// <summary>Waits for the peer to close, then closes this end (so closed clients do not leave CLOSE_WAIT).</summary>
    private static async Task DrainAsync(System.Net.Sockets.Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[1];
        try
        {
            while (await socket.ReceiveAsync(buffer, cancellationToken) > 0)
            {
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        socket.Dispose();
    }
}
