using System.Text;

namespace CacheProvider.Nats.Tests.Core;

public sealed class PubSubTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Published_message_reaches_subscriber_with_headers_and_payload()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(server.Url);
        await using var sub = await nats.SubscribeAsync("greet.>");
        await nats.FlushAsync();

        var headers = new NatsHeaders { { "Nats-TTL", "5s" }, { "X-Multi", "a" }, { "X-Multi", "b" } };
        await nats.PublishAsync("greet.world", Encoding.UTF8.GetBytes("hello"), headers);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var msg = await sub.Messages.ReadAsync(timeout.Token);
        Assert.Equal("greet.world", msg.Subject);
        Assert.Equal("hello", Encoding.UTF8.GetString(msg.Data.Span));
        Assert.Equal("5s", msg.Headers!["Nats-TTL"]);
        Assert.Null(msg.Headers["nats-ttl"]);
        Assert.Equal(["a", "b"], msg.Headers.GetValues("X-Multi"));
    }

    [Fact]
    public async Task Request_gets_reply_and_no_responders_is_typed()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(server.Url);
        await using var sub = await nats.SubscribeAsync("svc.echo");
        await nats.FlushAsync();
        _ = Task.Run(async () =>
        {
            await foreach (var m in sub.ReadAllAsync())
            {
                await nats.PublishAsync(m.ReplyTo!, m.Data);
            }
        });

        var reply = await nats.RequestAsync("svc.echo", "ping"u8.ToArray());
        Assert.Equal("ping", Encoding.UTF8.GetString(reply.Data.Span));
        await Assert.ThrowsAsync<NatsNoRespondersException>(async () => await nats.RequestAsync("svc.nobody"));
    }
}
