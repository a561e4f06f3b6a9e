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
internal sealed class FaultProxy : LoopbackTcpServer
{
    private readonly int _upstreamPort;
    private readonly ConcurrentDictionary<int, Pair> _pairs = new();

    public FaultProxy(int upstreamPort)
    {
        _upstreamPort = upstreamPort;
        StartAccepting();
    }

    /// <summary>Writes <paramref name="bytes"/> to every open client connection as if the server had sent them.</summary>
    public async Task InjectToClientsAsync(byte[] bytes)
    {
        foreach (var pair in _pairs.Values)
        {
            await pair.WriteToClientAsync(bytes, Stopping);
        }
    }

    protected override async Task ServeAsync(TcpClient client, int id)
    {
        using var upstream = new TcpClient();
        using var accepted = client;
        try
        {
            await upstream.ConnectAsync(IPAddress.Loopback, _upstreamPort, Stopping);
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
                var n = await from.ReadAsync(buffer, Stopping);
                if (n == 0)
                {
                    return;
                }

                await write(buffer.AsMemory(0, n), Stopping);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
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
