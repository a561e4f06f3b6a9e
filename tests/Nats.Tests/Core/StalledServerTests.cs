namespace CacheProvider.Nats.Tests.Core;

/// <summary>A server that is alive but frozen (SIGSTOP): the socket stays open and nothing comes back.</summary>
public sealed class StalledServerTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Frozen_server_is_detected_by_unanswered_pings_and_the_client_reconnects_when_it_thaws()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        var options = Test.Options(server.Url) with { PingInterval = TimeSpan.FromMilliseconds(200), ConnectTimeout = TimeSpan.FromSeconds(1) };
        await using var nats = new NatsConnection(options);
        var disconnected = Test.Signal<NatsConnectionEventArgs>();
        var reconnected = Test.Signal<bool>();
        nats.Disconnected += (_, e) => disconnected.TrySetResult(e);
        nats.Reconnected += (_, _) => reconnected.TrySetResult(true);
        await using var sub = await nats.SubscribeAsync("thaw");
        await nats.FlushAsync();

        server.Pause();
        try
        {
            var lost = await disconnected.Task.Within();
            Assert.Contains("Stale", lost.Error!.Message, StringComparison.Ordinal);
        }
        finally
        {
            server.Resume();
        }

        await reconnected.Task.Within();
        await nats.PublishAsync("thaw", "x"u8.ToArray());
        await sub.NextAsync();
    }

    [Fact]
    public async Task Dispose_returns_while_a_write_is_blocked_on_a_frozen_server()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        var nats = new NatsConnection(Test.Options(server.Url) with { PingInterval = TimeSpan.FromMinutes(5) });
        await nats.ConnectAsync();
        server.Pause();
        try
        {
            // Far more than the socket buffers hold, so the writer ends up inside a write that cannot finish.
            var payload = new byte[512 * 1024];
            using var stop = new CancellationTokenSource();
            var publisher = Task.Run(async () =>
            {
                for (var i = 0; i < 200 && !stop.IsCancellationRequested; i++)
                {
                    await nats.PublishAsync("flood", payload, cancellationToken: stop.Token);
                }
            });
            await Task.Delay(500);

            await nats.DisposeAsync().AsTask().Within();

            Assert.Equal(NatsConnectionState.Closed, nats.State);
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<Exception>(() => publisher.Within());
        }
        finally
        {
            server.Resume();
        }
    }
}
