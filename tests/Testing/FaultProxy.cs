using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace CacheProvider.Testing;

/// <summary>
/// A TCP proxy on a loopback port in front of a real nats-server, for faults a healthy server never causes: every
/// open connection cut at once (as a flaky network or a load balancer does), or bytes injected into the
/// server-to-client stream. Everything else passes through unchanged. Injection happens between forwarded chunks
/// (under the same lock), so it never splits a server frame that arrived in one read.
/// </summary>
public sealed class FaultProxy : LoopbackTcpServer
{
    private readonly int _upstreamPort;
    private readonly ConcurrentDictionary<int, Pair> _pairs = new();

    /// <summary>Starts a proxy forwarding to 127.0.0.1:<paramref name="upstreamPort"/>.</summary>
    public FaultProxy(int upstreamPort)
    {
        _upstreamPort = upstreamPort;
        StartAccepting();
    }

    /// <summary>URL clients use to reach the server through the proxy.</summary>
    public string Url => $"nats://127.0.0.1:{Port}";

    /// <summary>Writes <paramref name="bytes"/> to every open client connection as if the server had sent them.</summary>
    public async Task InjectToClientsAsync(byte[] bytes)
    {
        foreach (var pair in _pairs.Values)
        {
            await pair.WriteToClientAsync(bytes, Stopping).ConfigureAwait(false);
        }
    }

    /// <summary>Resets every open connection (both sides); new connections are accepted as before.</summary>
    public void CutAll()
    {
        foreach (var pair in _pairs.Values)
        {
            pair.Cut();
        }
    }

    /// <inheritdoc />
    protected override async Task ServeAsync(TcpClient client, int index)
    {
        using var upstream = new TcpClient();
        using var accepted = client;
        try
        {
            await upstream.ConnectAsync(IPAddress.Loopback, _upstreamPort, Stopping).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return;
        }

        using var pair = new Pair(client, upstream);
        _pairs[index] = pair;
        try
        {
            var up = PumpAsync(client.GetStream(), (bytes, ct) => upstream.GetStream().WriteAsync(bytes, ct));
            var down = PumpAsync(upstream.GetStream(), pair.WriteToClientAsync);

            // Either side closing ends both, like a real connection would.
            await Task.WhenAny(up, down).ConfigureAwait(false);
        }
        finally
        {
            _pairs.TryRemove(index, out _);
        }
    }

    private async Task PumpAsync(NetworkStream from, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> write)
    {
        var buffer = new byte[16384];
        try
        {
            while (true)
            {
                var n = await from.ReadAsync(buffer, Stopping).ConfigureAwait(false);
                if (n == 0)
                {
                    return;
                }

                await write(buffer.AsMemory(0, n), Stopping).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
    }

    private sealed class Pair(TcpClient client, TcpClient upstream) : IDisposable
    {
        private readonly SemaphoreSlim _lock = new(1, 1);

        // Taken now: TcpClient.Client is null once the client is disposed, which may race a cut.
        private readonly Socket[] _sockets = [client.Client, upstream.Client];

        public async ValueTask WriteToClientAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
        {
            try
            {
                await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                return; // the connection ended while an injection was on its way to it
            }

            try
            {
                await client.GetStream().WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
            {
                // The client hung up: nothing to deliver to.
            }
            finally
            {
                try
                {
                    _lock.Release();
                }
                catch (ObjectDisposedException)
                {
                    // Disposed by the connection's end while this write ran.
                }
            }
        }

        public void Cut()
        {
            // Linger 0: close with RST, as a dropped network path looks to both ends.
            foreach (var socket in _sockets)
            {
                try
                {
                    socket.LingerState = new LingerOption(true, 0);
                    socket.Close();
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                }
            }
        }

        public void Dispose() => _lock.Dispose();
    }
}
