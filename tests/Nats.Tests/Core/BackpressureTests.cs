using System.Text;

namespace CacheProvider.Nats.Tests.Core;

public sealed class BackpressureTests(ITestOutputHelper output)
{
    private const int MaxPendingBytes = 64 * 1024;
    private const int MessageSize = 1000;

    [Fact]
    public async Task Publishes_beyond_the_pending_bound_wait_while_disconnected_and_are_delivered_after_restart()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url) with { MaxPendingBytes = MaxPendingBytes });
        var disconnected = Test.Signal<bool>();
        nats.Disconnected += (_, _) => disconnected.TrySetResult(true);
        await using var sub = await nats.SubscribeAsync("buffered");
        await nats.FlushAsync();

        await server.StopAsync();
        await disconnected.Task.Within();

        // The call itself must return (a pending task) rather than block or spin the caller's thread.
        var (accepted, waiting) = await Task.Run(() => FillUntilBlocked(nats, CancellationToken.None)).Within();
        Assert.InRange(accepted, 1, MaxPendingBytes / MessageSize);
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted, "a publish beyond the bound waits while the server is down");

        await server.StartAgainAsync();
        await waiting.Within();

        for (var i = 0; i <= accepted; i++)
        {
            var msg = await sub.NextAsync();
            Assert.Equal(i, BitConverter.ToInt32(msg.Data.Span));
        }

        await nats.FlushAsync().Within();
        Assert.False(sub.Messages.TryRead(out _));
    }

    [Fact]
    public async Task Waiting_publish_can_be_cancelled_and_is_then_not_sent()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url) with { MaxPendingBytes = MaxPendingBytes });
        var disconnected = Test.Signal<bool>();
        var reconnected = Test.Signal<bool>();
        nats.Disconnected += (_, _) => disconnected.TrySetResult(true);
        nats.Reconnected += (_, _) => reconnected.TrySetResult(true);
        await using var sub = await nats.SubscribeAsync("buffered");
        await nats.FlushAsync();
        await server.KillAsync();
        await disconnected.Task.Within();
        using var cts = new CancellationTokenSource();
        var (accepted, waiting) = await Task.Run(() => FillUntilBlocked(nats, cts.Token)).Within();

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.Within());

        await server.StartAgainAsync();
        await reconnected.Task.Within();
        await nats.FlushAsync().Within();
        var received = 0;
        while (sub.Messages.TryRead(out var msg))
        {
            Assert.Equal(received, BitConverter.ToInt32(msg.Data.Span));
            received++;
        }

        Assert.Equal(accepted, received);
    }

    private static async Task<(int Accepted, Task Waiting)> FillUntilBlocked(NatsConnection nats, CancellationToken cancellationToken)
    {
        for (var i = 0; i < 10 * MaxPendingBytes / MessageSize; i++)
        {
            var publish = nats.PublishAsync("buffered", Payload(i), cancellationToken: cancellationToken);
            if (!publish.IsCompleted)
            {
                return (i, publish.AsTask());
            }

            await publish;
        }

        throw new InvalidOperationException("Publishing never waited: the pending bound is not enforced");
    }

    private static byte[] Payload(int index)
    {
        var bytes = Encoding.ASCII.GetBytes(new string('p', MessageSize));
        BitConverter.TryWriteBytes(bytes, index);
        return bytes;
    }
}
