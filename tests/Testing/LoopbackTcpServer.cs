using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace CacheProvider.Testing;

/// <summary>
/// A listener on a free loopback port that hands each accepted connection to <see cref="ServeAsync"/> on its own task;
/// disposing stops accepting, cancels <see cref="Stopping"/> and waits for every connection's task.
/// </summary>
public abstract class LoopbackTcpServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Task> _handlers = [];
    private Task? _accept;
    private int _connections;

    protected LoopbackTcpServer()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
    }

    /// <summary>The loopback port clients connect to.</summary>
    public int Port { get; }

    /// <summary>Connections accepted so far (each client reconnect adds one).</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Cancelled when the server is disposed.</summary>
    protected CancellationToken Stopping => _stop.Token;

    /// <summary>Starts accepting; call once the derived class is fully constructed.</summary>
    protected void StartAccepting() => _accept = AcceptLoopAsync();

    /// <summary>Serves one connection; <paramref name="index"/> counts from 0 in accept order.</summary>
    protected abstract Task ServeAsync(TcpClient client, int index);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        if (_accept is not null)
        {
            await _accept;
        }

        await Task.WhenAll(_handlers);
        _listener.Dispose();
        _stop.Dispose();
        GC.SuppressFinalize(this);
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

            var index = Interlocked.Increment(ref _connections) - 1;
            _handlers.Add(Task.Run(() => ServeAsync(client, index)));
        }
    }
}
