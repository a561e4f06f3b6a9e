using System.Text;

namespace CacheProvider.Nats.Tests.Core;

public sealed class RequestReplyTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Request_gets_the_responders_reply_with_its_headers()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));
        await using var service = await nats.SubscribeAsync("svc.upper");
        await nats.FlushAsync();
        var responder = Respond(nats, service, m => Encoding.UTF8.GetString(m.Data.Span).ToUpperInvariant());

        var reply = await nats.RequestAsync("svc.upper", "hello"u8.ToArray(), new NatsHeaders { { "X-Req", "1" } }).AsTask().Within();

        Assert.Equal("HELLO", Encoding.UTF8.GetString(reply.Data.Span));
        Assert.Equal("svc.upper", reply.Headers!["X-Served"]);
        await service.UnsubscribeAsync();
        await responder.Within();
    }

    [Fact]
    public async Task Concurrent_requests_each_get_their_own_reply()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));
        await using var service = await nats.SubscribeAsync("svc.echo");
        await nats.FlushAsync();
        _ = Respond(nats, service, m => Encoding.UTF8.GetString(m.Data.Span));

        var requests = Enumerable.Range(0, 200)
            .Select(i => nats.RequestAsync("svc.echo", Encoding.UTF8.GetBytes($"n{i}")).AsTask())
            .ToArray();
        var replies = await Task.WhenAll(requests).Within();

        for (var i = 0; i < replies.Length; i++)
        {
            Assert.Equal($"n{i}", Encoding.UTF8.GetString(replies[i].Data.Span));
        }
    }

    [Fact]
    public async Task Request_made_before_connecting_connects_and_gets_the_reply()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var responderConnection = new NatsConnection(Test.Options(server.Url));
        await using var service = await responderConnection.SubscribeAsync("svc.lazy");
        await responderConnection.FlushAsync();
        _ = Respond(responderConnection, service, _ => "ok");

        await using var nats = new NatsConnection(Test.Options(server.Url));
        Assert.Equal(NatsConnectionState.New, nats.State);
        var reply = await nats.RequestAsync("svc.lazy").AsTask().Within();

        Assert.Equal("ok", Encoding.UTF8.GetString(reply.Data.Span));
    }

    [Fact]
    public async Task Request_without_responders_throws_no_responders_exception_at_once()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));
        await nats.ConnectAsync();

        // The long timeout shows the 503 ends the request, not the clock.
        var error = await Assert.ThrowsAsync<NatsNoRespondersException>(
            () => nats.RequestAsync("svc.absent", timeout: TimeSpan.FromMinutes(5)).AsTask().Within());

        Assert.Equal("svc.absent", error.Subject);
    }

    [Fact]
    public async Task Request_to_a_responder_that_never_answers_throws_timeout_exception()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));
        await using var silent = await nats.SubscribeAsync("svc.silent");
        await nats.FlushAsync();

        var error = await Assert.ThrowsAsync<NatsTimeoutException>(
            () => nats.RequestAsync("svc.silent", timeout: TimeSpan.FromMilliseconds(200)).AsTask().Within());

        Assert.Equal("svc.silent", error.Subject);
        Assert.Equal(TimeSpan.FromMilliseconds(200), error.Timeout);
        Assert.Equal(NatsConnectionState.Connected, nats.State);
    }

    [Fact]
    public async Task Cancelled_request_throws_operation_canceled_and_later_requests_still_work()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));
        await using var silent = await nats.SubscribeAsync("svc.silent");
        await using var echo = await nats.SubscribeAsync("svc.echo");
        await nats.FlushAsync();
        _ = Respond(nats, echo, m => Encoding.UTF8.GetString(m.Data.Span));

        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => nats.RequestAsync("svc.silent", timeout: TimeSpan.FromMinutes(5), cancellationToken: cts.Token).AsTask().Within());

        var reply = await nats.RequestAsync("svc.echo", "again"u8.ToArray()).AsTask().Within();
        Assert.Equal("again", Encoding.UTF8.GetString(reply.Data.Span));
    }

    private static Task Respond(NatsConnection nats, NatsSubscription service, Func<NatsMsg, string> answer) => Task.Run(async () =>
    {
        await foreach (var m in service.ReadAllAsync())
        {
            await nats.PublishAsync(m.ReplyTo!, Encoding.UTF8.GetBytes(answer(m)), new NatsHeaders { { "X-Served", m.Subject } });
        }
    });
}
