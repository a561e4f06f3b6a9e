using System.Text;

namespace CacheProvider.Nats.Tests.Core;

public sealed class SubscriptionTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Wildcard_subscriptions_receive_matching_subjects_only()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));
        await using var star = await nats.SubscribeAsync("orders.*.created");
        await using var tail = await nats.SubscribeAsync("orders.>");
        await nats.FlushAsync();

        await nats.PublishAsync("orders.1.created", "a"u8.ToArray());
        await nats.PublishAsync("orders.1.deleted", "b"u8.ToArray());
        await nats.PublishAsync("other.1.created", "c"u8.ToArray());
        await nats.FlushAsync();

        Assert.Equal("orders.1.created", (await star.NextAsync()).Subject);
        Assert.Equal("orders.1.created", (await tail.NextAsync()).Subject);
        Assert.Equal("orders.1.deleted", (await tail.NextAsync()).Subject);
        Assert.False(star.Messages.TryRead(out _));
        Assert.False(tail.Messages.TryRead(out _));
    }

    [Fact]
    public async Task Subscription_with_max_messages_receives_exactly_that_many_then_completes()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));
        await using var limited = await nats.SubscribeAsync("auto.unsub", maxMessages: 3);
        await using var all = await nats.SubscribeAsync("auto.unsub");
        await nats.FlushAsync();

        for (var i = 0; i < 5; i++)
        {
            await nats.PublishAsync("auto.unsub", Encoding.UTF8.GetBytes(i.ToString()));
        }

        for (var i = 0; i < 5; i++)
        {
            await all.NextAsync();
        }

        var received = new List<string>();
        await foreach (var m in limited.ReadAllAsync().WithCancellation(new CancellationTokenSource(Test.Timeout).Token))
        {
            received.Add(Encoding.UTF8.GetString(m.Data.Span));
        }

        Assert.Equal(["0", "1", "2"], received);
        await limited.Messages.Completion.Within();
    }

    [Fact]
    public async Task Queue_group_members_share_the_messages_and_each_message_goes_to_one_member()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));
        await using var workerA = await nats.SubscribeAsync("jobs", queueGroup: "workers");
        await using var workerB = await nats.SubscribeAsync("jobs", queueGroup: "workers");
        await using var observer = await nats.SubscribeAsync("jobs");
        await nats.FlushAsync();

        const int Count = 200;
        for (var i = 0; i < Count; i++)
        {
            await nats.PublishAsync("jobs", Encoding.UTF8.GetBytes(i.ToString()));
        }

        for (var i = 0; i < Count; i++)
        {
            await observer.NextAsync();
        }

        await nats.FlushAsync();
        var seen = new List<string>();
        var perWorker = new int[2];
        foreach (var (worker, index) in new[] { (workerA, 0), (workerB, 1) })
        {
            while (worker.Messages.TryRead(out var m))
            {
                seen.Add(Encoding.UTF8.GetString(m.Data.Span));
                perWorker[index]++;
            }
        }

        Assert.Equal(Count, seen.Count);
        Assert.Equal(Count, seen.Distinct().Count());
        Assert.All(perWorker, n => Assert.True(n > 0, "both members of the group get work"));
    }

    [Fact]
    public async Task Unsubscribe_completes_the_channel_and_stops_delivery()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));
        var sub = await nats.SubscribeAsync("unsub.me");
        await using var witness = await nats.SubscribeAsync("unsub.me");
        await nats.FlushAsync();

        await sub.UnsubscribeAsync();
        await nats.PublishAsync("unsub.me", "late"u8.ToArray());
        await witness.NextAsync();

        await sub.Messages.Completion.Within();
        Assert.False(sub.Messages.TryRead(out _));
    }
}
