using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CacheProvider.Nats.Tests.Fuzz;

/// <summary>
/// A fake NATS server on a loopback port that plays the handshake straight (INFO, PONG to the CONNECT PING)
/// and then, once the client has subscribed, sends one "round" of traffic built by the test: valid messages
/// followed by garbled frames. It then waits for the client to drop the socket (what a protocol error must
/// cause); a client that is still waiting for bytes that never come is cut off by the server instead. Each
/// connection is one round, so the number of connections counts reconnects.
/// </summary>
internal sealed class HostileServer : LoopbackTcpServer
{
    private static readonly TimeSpan HandshakeLimit = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan DropWait = TimeSpan.FromMilliseconds(500);

    private readonly Func<int, long, byte[]> _buildRound;
    private int _clientDrops;
    private int _serverCuts;
    private int _roundsSent;

    /// <param name="buildRound">Bytes to send in round n to a client whose subscription has the given sid.</param>
    public HostileServer(Func<int, long, byte[]> buildRound)
    {
        _buildRound = buildRound;
        StartAccepting();
    }

    public int RoundsSent => Volatile.Read(ref _roundsSent);

    /// <summary>Rounds after which the client closed the socket itself (it detected the garbage).</summary>
    public int ClientDrops => Volatile.Read(ref _clientDrops);

    /// <summary>Rounds after which the client kept waiting (e.g. for a declared payload) and the server hung up.</summary>
    public int ServerCuts => Volatile.Read(ref _serverCuts);

    /// <summary>Failures of the harness itself (not of the client); the test asserts there are none.</summary>
    public ConcurrentQueue<Exception> Faults { get; } = new();

    protected override async Task ServeAsync(TcpClient client, int round)
    {
        using var _ = client;
        using var writeLock = new SemaphoreSlim(1, 1);
        var stream = client.GetStream();
        var sid = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var pinged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            var info = $"INFO {{\"server_id\":\"HOSTILE{round}\",\"version\":\"2.12.1\",\"proto\":1,\"host\":\"127.0.0.1\",\"port\":{Port},\"headers\":true,\"max_payload\":1048576}}\r\n";
            await WriteAsync(stream, writeLock, Encoding.ASCII.GetBytes(info));
            var reading = ReadClientAsync(stream, writeLock, sid, pinged);
            var ready = Task.WhenAll(sid.Task, pinged.Task);
            if (await Task.WhenAny(ready, reading, Task.Delay(HandshakeLimit, Stopping)) != ready)
            {
                if (!Stopping.IsCancellationRequested)
                {
                    Faults.Enqueue(new TimeoutException($"round {round}: the client did not finish the handshake and subscribe"));
                }

                return;
            }

            var bytes = _buildRound(round, await sid.Task);
            Interlocked.Increment(ref _roundsSent);

            // A few writes rather than one, so that the client's reads split the garbage at varying points.
            var rng = new Random(round);
            var at = 0;
            try
            {
                while (at < bytes.Length)
                {
                    var n = Math.Min(bytes.Length - at, rng.Next(1, 4096));
                    await WriteAsync(stream, writeLock, bytes.AsMemory(at, n));
                    at += n;
                }
            }
            catch (IOException)
            {
                // The client hung up mid-round: it found garbage early.
            }

            if (await Task.WhenAny(reading, Task.Delay(DropWait, Stopping)) == reading)
            {
                Interlocked.Increment(ref _clientDrops);
            }
            else
            {
                Interlocked.Increment(ref _serverCuts);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The client (or the test ending) closed the socket.
        }
        catch (Exception ex)
        {
            Faults.Enqueue(ex);
        }
    }

    /// <summary>Reads the client's commands: records the SUB sid and answers PINGs. Ends at EOF.</summary>
    private async Task ReadClientAsync(NetworkStream stream, SemaphoreSlim writeLock, TaskCompletionSource<long> sid, TaskCompletionSource pinged)
    {
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(Stopping);
                var buffer = result.Buffer;
                while (buffer.PositionOf((byte)'\n') is { } lf)
                {
                    var line = Encoding.ASCII.GetString(buffer.Slice(0, lf).ToArray()).TrimEnd('\r');
                    buffer = buffer.Slice(buffer.GetPosition(1, lf));
                    if (line.StartsWith("PING", StringComparison.Ordinal))
                    {
                        await WriteAsync(stream, writeLock, "PONG\r\n"u8.ToArray());
                        pinged.TrySetResult();
                    }
                    else if (line.StartsWith("SUB ", StringComparison.Ordinal))
                    {
                        sid.TrySetResult(long.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
                    }
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }

    private static async Task WriteAsync(NetworkStream stream, SemaphoreSlim writeLock, ReadOnlyMemory<byte> bytes)
    {
        await writeLock.WaitAsync();
        try
        {
            await stream.WriteAsync(bytes);
            await stream.FlushAsync();
        }
        finally
        {
            writeLock.Release();
        }
    }
}
