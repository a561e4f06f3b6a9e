using System.Text;

namespace CacheProvider.Nats.Tests.Core;

/// <summary>Garbage in the server's stream must cost one reconnect, not a minute of waiting for the stale-ping check.</summary>
public sealed class ProtocolLimitTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("MSG inject.a 1 999999999999\r\n")]
    [InlineData("MSG inject.a 1 2000000\r\n")]
    [InlineData("MSG inject.a 1 _INBOX.x 50000000\r\n")]
    [InlineData("HMSG inject.a 1 12 3000000\r\n")]
    public async Task Message_size_beyond_what_the_server_could_send_drops_the_connection_and_reconnects_at_once(string garbage)
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var proxy = new FaultProxy(server.Port);

        // Pings far apart: only the size check itself can notice the garbage within the test's bound.
        var options = Test.Options($"nats://127.0.0.1:{proxy.Port}") with { PingInterval = TimeSpan.FromMinutes(10) };
        await using var nats = new NatsConnection(options);
        var disconnected = Test.Signal<NatsConnectionEventArgs>();
        var reconnected = Test.Signal<bool>();
        nats.Disconnected += (_, e) => disconnected.TrySetResult(e);
        nats.Reconnected += (_, _) => reconnected.TrySetResult(true);
        await using var sub = await nats.SubscribeAsync("inject.a");
        await nats.FlushAsync();

        await proxy.InjectToClientsAsync(Encoding.ASCII.GetBytes(garbage));

        var lost = await disconnected.Task.Within();
        Assert.IsType<NatsProtocolException>(lost.Error);
        await reconnected.Task.Within();
        Assert.Equal(2, proxy.Connections);
        await nats.PublishAsync("inject.a", "after"u8.ToArray());
        Assert.Equal("after", Encoding.ASCII.GetString((await sub.NextAsync()).Data.Span));
    }

    [Fact]
    public async Task Message_up_to_max_payload_still_passes_through_the_size_check()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));
        await using var sub = await nats.SubscribeAsync("big");
        await nats.FlushAsync();
        var headers = new NatsHeaders { ["X-Pad"] = "p" };
        var payload = new byte[nats.ServerInfo!.MaxPayload - HeaderLength(headers)];

        await nats.PublishAsync("big", payload, headers);

        var msg = await sub.NextAsync();
        Assert.Equal(payload.Length, msg.Data.Length);
        Assert.Equal(0, nats.Reconnects);
    }

    private static int HeaderLength(NatsHeaders headers) => CacheProvider.Nats.Internal.HeaderCodec.GetLength(headers);
}
