using System.Text;

namespace CacheProvider.Nats.Tests.Core;

public sealed class ReconnectTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Kill_9_and_restart_while_publishing_and_subscribed_resumes_delivery_and_raises_events()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));
        var disconnected = Test.Signal<NatsConnectionEventArgs>();
        var reconnected = Test.Signal<NatsConnectionEventArgs>();
        nats.Disconnected += (_, e) => disconnected.TrySetResult(e);
        nats.Reconnected += (_, e) => reconnected.TrySetResult(e);
        await using var sub = await nats.SubscribeAsync("ticks");
        await nats.FlushAsync();

        var lastSeen = -1;
        var reader = Task.Run(async () =>
        {
            await foreach (var m in sub.ReadAllAsync())
            {
                Volatile.Write(ref lastSeen, int.Parse(Encoding.ASCII.GetString(m.Data.Span)));
            }
        });
        using var stop = new CancellationTokenSource();
        var published = 0;
        var publisher = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await nats.PublishAsync("ticks", Encoding.ASCII.GetBytes(published.ToString()));
                Interlocked.Increment(ref published);
                await Task.Delay(2);
            }
        });
        await Test.UntilAsync(() => Volatile.Read(ref lastSeen) >= 10, "messages flow before the kill");

        await server.KillAsync();
        var lost = await disconnected.Task.Within();
        Assert.NotNull(lost.Error);
        Assert.Equal(NatsConnectionState.Reconnecting, nats.State);
        await Task.Delay(100);
        await server.StartAgainAsync();

        var back = await reconnected.Task.Within();
        Assert.Equal(server.Url, back.Server);
        var publishedAfterReconnect = Volatile.Read(ref published);
        await Test.UntilAsync(() => Volatile.Read(ref lastSeen) > publishedAfterReconnect, "the subscription receives again");
        await stop.CancelAsync();
        await publisher.Within();
        Assert.Equal(NatsConnectionState.Connected, nats.State);
        Assert.Equal(1, nats.Reconnects);
        Assert.False(reader.IsCompleted);
    }

    [Fact]
    public async Task Graceful_stop_and_start_reconnects_and_requests_work_again()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));
        var disconnected = Test.Signal<bool>();
        var reconnected = Test.Signal<bool>();
        nats.Disconnected += (_, _) => disconnected.TrySetResult(true);
        nats.Reconnected += (_, _) => reconnected.TrySetResult(true);
        await using var service = await nats.SubscribeAsync("svc.echo");
        await nats.FlushAsync();
        _ = Task.Run(async () =>
        {
            await foreach (var m in service.ReadAllAsync())
            {
                await nats.PublishAsync(m.ReplyTo!, m.Data);
            }
        });
        await nats.RequestAsync("svc.echo", "before"u8.ToArray()).AsTask().Within();

        await server.StopAsync();
        await disconnected.Task.Within();
        await server.StartAgainAsync();
        await reconnected.Task.Within();

        var reply = await nats.RequestAsync("svc.echo", "after"u8.ToArray()).AsTask().Within();
        Assert.Equal("after", Encoding.UTF8.GetString(reply.Data.Span));
    }

    [Fact]
    public async Task Flush_issued_while_disconnected_completes_after_the_reconnect()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));
        var disconnected = Test.Signal<bool>();
        nats.Disconnected += (_, _) => disconnected.TrySetResult(true);
        await nats.ConnectAsync();

        await server.KillAsync();
        await disconnected.Task.Within();
        var flush = nats.FlushAsync();
        await Task.Delay(200);
        Assert.False(flush.IsCompleted);
        await server.StartAgainAsync();

        await flush.Within();
        Assert.Equal(NatsConnectionState.Connected, nats.State);
    }

    [Fact]
    public async Task Auto_unsubscribe_limit_counts_messages_received_before_a_reconnect()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));
        var reconnected = Test.Signal<bool>();
        nats.Reconnected += (_, _) => reconnected.TrySetResult(true);
        await using var limited = await nats.SubscribeAsync("limited", maxMessages: 4);
        await nats.FlushAsync();
        await nats.PublishAsync("limited", "0"u8.ToArray());
        await nats.PublishAsync("limited", "1"u8.ToArray());
        await limited.NextAsync();
        await limited.NextAsync();

        await server.KillAsync();
        await server.StartAgainAsync();
        await reconnected.Task.Within();
        await using var witness = await nats.SubscribeAsync("limited");
        await nats.FlushAsync();
        for (var i = 2; i < 6; i++)
        {
            await nats.PublishAsync("limited", Encoding.ASCII.GetBytes(i.ToString()));
        }

        for (var i = 2; i < 6; i++)
        {
            await witness.NextAsync();
        }

        Assert.Equal("2", Encoding.ASCII.GetString((await limited.NextAsync()).Data.Span));
        Assert.Equal("3", Encoding.ASCII.GetString((await limited.NextAsync()).Data.Span));
        await limited.Messages.Completion.Within();
    }

    [Fact]
    public async Task Dispose_while_reconnecting_closes_promptly_and_fails_waiting_operations()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        var nats = new NatsConnection(Test.Options(server.Url));
        var disconnected = Test.Signal<bool>();
        var closed = Test.Signal<bool>();
        nats.Disconnected += (_, _) => disconnected.TrySetResult(true);
        nats.Closed += (_, _) => closed.TrySetResult(true);
        await using var sub = await nats.SubscribeAsync("x");
        await nats.FlushAsync();

        await server.KillAsync();
        await disconnected.Task.Within();
        var flush = nats.FlushAsync();
        await nats.DisposeAsync().AsTask().Within();

        await Assert.ThrowsAnyAsync<NatsException>(() => flush.Within());
        await closed.Task.Within();
        Assert.Equal(NatsConnectionState.Closed, nats.State);
        await sub.Messages.Completion.Within();
        await Assert.ThrowsAnyAsync<NatsException>(async () => await nats.PublishAsync("x", "y"u8.ToArray()));
    }
}
