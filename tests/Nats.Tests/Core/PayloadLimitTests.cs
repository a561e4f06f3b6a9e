using System.Text;

namespace CacheProvider.Nats.Tests.Core;

public sealed class PayloadLimitTests(ITestOutputHelper output)
{
    private const int MaxPayload = 65536;
    private const string Config = "max_payload: 65536\n";

    [Fact]
    public async Task Client_learns_max_payload_from_the_server()
    {
        await using var server = await NatsServer.StartAsync(output, Config, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));
        await nats.ConnectAsync();

        Assert.Equal(MaxPayload, nats.ServerInfo!.MaxPayload);
    }

    [Fact]
    public async Task Payload_of_exactly_max_payload_including_headers_is_delivered()
    {
        await using var server = await NatsServer.StartAsync(output, Config, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));
        await using var sub = await nats.SubscribeAsync("big");
        await nats.FlushAsync();

        var headers = new NatsHeaders { { "X-Big", "yes" } };
        var payload = Fill(MaxPayload - HeaderLength(headers));
        await nats.PublishAsync("big", payload, headers);

        var msg = await sub.NextAsync();
        Assert.Equal(payload, msg.Data.ToArray());
        Assert.Equal("yes", msg.Headers!["X-Big"]);
        Assert.Equal(0, nats.Reconnects);
    }

    [Fact]
    public async Task Payload_without_headers_of_exactly_max_payload_is_delivered()
    {
        await using var server = await NatsServer.StartAsync(output, Config, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));
        await using var sub = await nats.SubscribeAsync("big");
        await nats.FlushAsync();

        var payload = Fill(MaxPayload);
        await nats.PublishAsync("big", payload);

        Assert.Equal(payload, (await sub.NextAsync()).Data.ToArray());
    }

    [Fact]
    public async Task Payload_one_byte_over_max_payload_is_rejected_before_sending_and_the_connection_stays_usable()
    {
        await using var server = await NatsServer.StartAsync(output, Config, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));
        await using var sub = await nats.SubscribeAsync("big");
        await nats.FlushAsync();
        var disconnected = 0;
        nats.Disconnected += (_, _) => Interlocked.Increment(ref disconnected);

        var headers = new NatsHeaders { { "X-Big", "yes" } };
        var error = await Assert.ThrowsAsync<NatsPayloadTooLargeException>(
            async () => await nats.PublishAsync("big", Fill(MaxPayload - HeaderLength(headers) + 1), headers));
        Assert.Equal(MaxPayload + 1, error.Size);
        Assert.Equal(MaxPayload, error.Limit);
        await Assert.ThrowsAsync<NatsPayloadTooLargeException>(async () => await nats.PublishAsync("big", Fill(MaxPayload + 1)));

        await nats.PublishAsync("big", "small"u8.ToArray());
        Assert.Equal("small", Encoding.UTF8.GetString((await sub.NextAsync()).Data.Span));
        Assert.Equal(NatsConnectionState.Connected, nats.State);
        Assert.Equal(0, nats.Reconnects);
        Assert.Equal(0, Volatile.Read(ref disconnected));
        Assert.DoesNotContain("Maximum Payload", server.Log, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Request_one_byte_over_max_payload_is_rejected_before_sending()
    {
        await using var server = await NatsServer.StartAsync(output, Config, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));
        await nats.ConnectAsync();

        await Assert.ThrowsAsync<NatsPayloadTooLargeException>(async () => await nats.RequestAsync("svc.big", Fill(MaxPayload + 1)));

        Assert.Equal(NatsConnectionState.Connected, nats.State);
        await nats.FlushAsync().Within();
    }

    [Fact]
    public async Task First_publish_before_connecting_is_checked_against_the_servers_limit()
    {
        await using var server = await NatsServer.StartAsync(output, Config, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));

        // Below the 1 MiB default the client assumes before INFO, above what this server allows.
        await Assert.ThrowsAsync<NatsPayloadTooLargeException>(async () => await nats.PublishAsync("big", Fill(MaxPayload + 1)));

        Assert.Equal(NatsConnectionState.Connected, nats.State);
        await nats.FlushAsync().Within();
        Assert.Equal(0, nats.Reconnects);
    }

    /// <summary>"NATS/1.0\r\n", each "Name: Value\r\n", and the closing "\r\n".</summary>
    private static int HeaderLength(NatsHeaders headers) =>
        10 + headers.Sum(h => Encoding.UTF8.GetByteCount(h.Key) + 2 + Encoding.UTF8.GetByteCount(h.Value) + 2) + 2;

    private static byte[] Fill(int length)
    {
        var bytes = new byte[length];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)('a' + (i % 26));
        }

        return bytes;
    }
}
