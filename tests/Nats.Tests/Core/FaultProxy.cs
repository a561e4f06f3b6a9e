using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace CacheProvider.Nats.Tests.Core;

/// <summary>
/// A TCP proxy on a loopback port in front of a real nats-server that can inject bytes into the
/// server-to-client stream: garbage a real server never sends, while everything else stays genuine.
/// Injection happens between forwarded chunks (under the same lock), so it never splits a server frame that
/// arrived in one read; tests inject while the connection is idle to be sure of that.
/// </summary>
internal sealed class FaultProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly int _upstreamPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<int, Pair> _pairs = new();
    private readonly ConcurrentBag<Task> _tasks = [];
    private readonly Task _accept;
    private int _connections;

    public FaultProxy(int upstreamPort)
    {
        _upstreamPort = upstreamPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accept = AcceptLoopAsync();
    }

    public int Port { get; }

    /// <summary>Client connections accepted so far (each reconnect adds one).</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Writes <paramref name="bytes"/> to every open client connection as if the server had sent them.</summary>
    public async Task InjectToClientsAsync(byte[] bytes)
    {
        foreach (var pair in _pairs.Values)
        {
            await pair.WriteToClientAsync(bytes, _stop.Token);
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var id = Interlocked.Increment(ref _connections);
            _tasks.Add(Task.Run(() => ServeAsync(id, client)));
        }
    }

    private async Task ServeAsync(int id, TcpClient client)
    {
        using var upstream = new TcpClient();
        using var accepted = client;
        try
        {
            await upstream.ConnectAsync(IPAddress.Loopback, _upstreamPort, _stop.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return;
        }

        using var pair = new Pair(client.GetStream());
        _pairs[id] = pair;
        try
        {
            var up = PumpAsync(client.GetStream(), (bytes, ct) => upstream.GetStream().WriteAsync(bytes, ct));
            var down = PumpAsync(upstream.GetStream(), pair.WriteToClientAsync);

            // Either side closing ends both, like a real connection would.
            await Task.WhenAny(up, down);
        }
        finally
        {
            _pairs.TryRemove(id, out var removed);
        }
    }

    private async Task PumpAsync(NetworkStream from, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> write)
    {
        var buffer = new byte[16384];
        try
        {
            while (true)
            {
                var n = await from.ReadAsync(buffer, _stop.Token);
                if (n == 0)
                {
                    return;
                }

                await write(buffer.AsMemory(0, n), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accept;
        await Task.WhenAll(_tasks);
        _listener.Dispose();
        _stop.Dispose();
    }

    private sealed class Pair(NetworkStream toClient) : IDisposable
    {
        private readonly SemaphoreSlim _lock = new(1, 1);

        public async ValueTask WriteToClientAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
        {
            await _lock.WaitAsync(cancellationToken);
            try
            {
                await toClient.WriteAsync(bytes, cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
            {
                // The client hung up: nothing to deliver to.
            }
            finally
            {
                _lock.Release();
            }
        }

        public void Dispose() => _lock.Dispose();
    }
}
