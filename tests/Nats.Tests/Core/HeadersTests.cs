using System.Text;

namespace CacheProvider.Nats.Tests.Core;

public sealed class HeadersTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Multi_valued_headers_arrive_in_order_with_exact_name_case()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));
        await using var sub = await nats.SubscribeAsync("hdr.multi");
        await nats.FlushAsync();

        var headers = new NatsHeaders
        {
            { "X-Multi", "first" },
            { "Nats-TTL", "30s" },
            { "X-Multi", "second" },
            { "x-multi", "lower" },
            { "X-Spaces", "a value with spaces" },
        };
        await nats.PublishAsync("hdr.multi", "body"u8.ToArray(), headers);

        var msg = await sub.NextAsync();
        Assert.NotNull(msg.Headers);
        Assert.Equal(0, msg.StatusCode);
        Assert.Equal(["first", "second"], msg.Headers.GetValues("X-Multi"));
        Assert.Equal(["lower"], msg.Headers.GetValues("x-multi"));
        Assert.Equal("30s", msg.Headers["Nats-TTL"]);
        Assert.Null(msg.Headers["NATS-TTL"]);
        Assert.Equal("a value with spaces", msg.Headers["X-Spaces"]);
        Assert.Equal(["X-Multi", "Nats-TTL", "X-Multi", "x-multi", "X-Spaces"], msg.Headers.Select(h => h.Key));
        Assert.Equal("body", Encoding.UTF8.GetString(msg.Data.Span));
    }

    [Fact]
    public async Task Message_with_headers_and_empty_payload_round_trips()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));
        await using var sub = await nats.SubscribeAsync("hdr.only");
        await nats.FlushAsync();

        await nats.PublishAsync("hdr.only", ReadOnlyMemory<byte>.Empty, new NatsHeaders { { "KV-Operation", "DEL" } });

        var msg = await sub.NextAsync();
        Assert.True(msg.Data.IsEmpty);
        Assert.Equal("DEL", msg.Headers!["KV-Operation"]);
    }

    [Fact]
    public async Task No_responders_status_line_503_is_parsed_into_the_headers_code()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));
        var inbox = nats.NewInbox();
        await using var replies = await nats.SubscribeAsync(inbox);
        await nats.FlushAsync();

        // A publish with a reply subject to a subject nobody listens on makes the server answer 503 itself.
        await nats.PublishAsync("hdr.nobody.home", "?"u8.ToArray(), replyTo: inbox);

        var status = await replies.NextAsync();
        Assert.Equal(503, status.StatusCode);
        Assert.Equal(503, status.Headers!.Code);
        Assert.Null(status.Headers.Description);
        Assert.True(status.Data.IsEmpty);
    }

    [Fact]
    public async Task Status_line_with_code_and_description_is_parsed_and_headers_after_it_are_kept()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));
        await using var sub = await nats.SubscribeAsync("hdr.status");
        await nats.FlushAsync();

        // Our client cannot publish a status line (servers do that, e.g. a JetStream 404), so a raw client sends one.
        const string Block = "NATS/1.0 404 Message Not Found\r\nNats-Stream: KV_b\r\nX-Two: 1\r\nX-Two: 2\r\n\r\n";
        const string Payload = "xyz";
        await Test.SendRawAsync(server.Port, $"HPUB hdr.status {Block.Length} {Block.Length + Payload.Length}\r\n{Block}{Payload}\r\n");

        var msg = await sub.NextAsync();
        Assert.Equal(404, msg.StatusCode);
        Assert.Equal("Message Not Found", msg.Headers!.Description);
        Assert.Equal("KV_b", msg.Headers["Nats-Stream"]);
        Assert.Equal(["1", "2"], msg.Headers.GetValues("X-Two"));
        Assert.Equal(Payload, Encoding.ASCII.GetString(msg.Data.Span));
    }

    [Fact]
    public async Task A_message_with_a_malformed_header_block_is_dropped_without_costing_the_connection()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));
        var error = Test.Signal<Exception>();
        nats.Error += (_, e) => error.TrySetResult(e.Error);
        await using var sub = await nats.SubscribeAsync("hdr.bad");
        await nats.FlushAsync();

        // Any publisher can send this: the server forwards the block as it is.
        const string Block = "NATS/1.0\r\nNoColonHere\r\n\r\n";
        await Test.SendRawAsync(server.Port, $"HPUB hdr.bad {Block.Length} {Block.Length + 1}\r\n{Block}x\r\n");
        Assert.IsType<NatsProtocolException>(await error.Task.Within());

        await nats.PublishAsync("hdr.bad", "fine"u8.ToArray());
        var msg = await sub.NextAsync();
        Assert.Equal("fine", Encoding.ASCII.GetString(msg.Data.Span));
        Assert.Equal(NatsConnectionState.Connected, nats.State);
        Assert.Equal(0, nats.Reconnects);
    }

    [Theory]
    [InlineData("Bad Name", "v")]
    [InlineData("Bad:Name", "v")]
    [InlineData("Good-Name", "line\r\nInjected: yes")]
    public async Task Header_that_cannot_be_sent_is_rejected_before_anything_reaches_the_server(string name, string value)
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));
        await nats.ConnectAsync();

        Assert.Throws<ArgumentException>(() => new NatsHeaders { { name, value } });

        Assert.Equal(NatsConnectionState.Connected, nats.State);
        await nats.FlushAsync().Within();
    }
}
