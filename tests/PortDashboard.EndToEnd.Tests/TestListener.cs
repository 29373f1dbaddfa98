using System.Net;
using System.Net.Sockets;

namespace PortDashboard.EndToEnd.Tests;

/// <summary>A TCP listener on loopback, on the first free port of a span (tests run as root, so ports below 1024 work).</summary>
public sealed class TestListener : IDisposable
{
    private readonly TcpListener _listener;
    private readonly List<System.Net.Sockets.Socket> _accepted = [];

    private TestListener(TcpListener listener)
    {
        _listener = listener;
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public int Port { get; }

    /// <summary>Listens on the first free port from <paramref name="first"/> to <paramref name="last"/>, tried in a random order.</summary>
    public static TestListener OpenIn(int first, int last)
    {
        foreach (var port in Enumerable.Range(first, last - first + 1).OrderBy(_ => Random.Shared.Next()))
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            try
            {
                listener.Start();
                return new TestListener(listener);
            }
            catch (SocketException)
            {
                listener.Dispose(); // taken: try the next
            }
        }

        throw new InvalidOperationException($"No free port from {first} to {last}");
    }

    /// <summary>Connects a new client and accepts it; returns the client (its local port is the OS's ephemeral pick).</summary>
    public async Task<TcpClient> ConnectAsync()
    {
        var client = new TcpClient(AddressFamily.InterNetwork);
        await client.ConnectAsync(IPAddress.Loopback, Port);
        _accepted.Add(await _listener.AcceptSocketAsync());
        return client;
    }

    public void Dispose()
    {
        foreach (var socket in _accepted)
        {
            socket.Dispose();
        }

        _listener.Dispose();
    }
}
