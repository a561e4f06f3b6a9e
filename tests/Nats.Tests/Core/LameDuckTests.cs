using System.Text;

namespace CacheProvider.Nats.Tests.Core;

public sealed class LameDuckTests(ITestOutputHelper output)
{
    // 30 s is the server's minimum duration; with one client it closes it right after the grace period.
    private const string LameDuckConfig = """
        lame_duck_duration: "30s"
        lame_duck_grace_period: "300ms"
        """;

    [Fact]
    public async Task Lame_duck_server_is_announced_and_the_client_moves_to_the_other_seed()
    {
        await using var serverA = await NatsServer.StartAsync(output, LameDuckConfig, jetStream: false);
        await using var serverB = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(Test.Options($"{serverA.Url},{serverB.Url}"));
        var lameDuck = Test.Signal<NatsConnectionEventArgs>();
        var reconnected = Test.Signal<NatsConnectionEventArgs>();
        nats.LameDuckMode += (_, e) => lameDuck.TrySetResult(e);
        nats.Reconnected += (_, e) => reconnected.TrySetResult(e);
        await using var sub = await nats.SubscribeAsync("ldm.check");
        await nats.FlushAsync();
        Assert.Equal(serverA.Url, nats.ConnectedServer);

        serverA.EnterLameDuckMode();

        var announced = await lameDuck.Task.Within();
        Assert.Equal(serverA.Url, announced.Server);
        var moved = await reconnected.Task.Within();
        Assert.Equal(serverB.Url, moved.Server);
        Assert.Equal(serverB.Url, nats.ConnectedServer);

        // The subscription made on A was restored on B.
        await nats.PublishAsync("ldm.check", "on B"u8.ToArray());
        Assert.Equal("on B", Encoding.UTF8.GetString((await sub.NextAsync()).Data.Span));
    }
}
