using System.Buffers;
using System.Collections.Concurrent;
using CacheProvider.Nats.Internal;

namespace CacheProvider.Nats.Tests.Core;

/// <summary>
/// The read loop looks a subscription up and then delivers to it; an unsubscribe can complete the subscription
/// in between. Such a message belongs to nobody any more and must vanish quietly, not count as a slow consumer.
/// </summary>
public sealed class UnsubscribeRaceTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Message_delivered_after_unsubscribe_completed_is_dropped_silently()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));
        var errors = new ConcurrentQueue<Exception>();
        nats.Error += (_, e) => errors.Enqueue(e.Error);
        var sub = await nats.SubscribeAsync("race.one");
        await nats.FlushAsync();

        // The interleaving of the race, made deterministic: the read loop already holds the subscription
        // (looked up before the unsubscribe removed it) and delivers after the unsubscribe completed it.
        var held = sub.Core;
        await sub.UnsubscribeAsync();
        Deliver(held, "race.one"u8, "late"u8.ToArray());

        // Error events are raised off-thread: give a false report time to show up.
        await nats.FlushAsync();
        await Task.Delay(200);
        Assert.Equal(0, sub.Dropped);
        Assert.Empty(errors);
        await sub.Messages.Completion.Within();
    }

    [Fact]
    public async Task Unsubscribing_during_a_flood_reports_no_slow_consumer()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));
        await using var publisher = new NatsConnection(Test.Options(server.Url));
        var errors = new ConcurrentQueue<Exception>();
        nats.Error += (_, e) => errors.Enqueue(e.Error);

        // Large payloads widen the window between lookup and delivery (the copy happens in between); the channel
        // holds every message of a round, so a real slow consumer cannot happen.
        var payload = new byte[32 * 1024];
        const int PerRound = 400;
        for (var round = 0; round < 15 && errors.IsEmpty; round++)
        {
            var subject = $"race.flood.{round}";
            var sub = await nats.SubscribeAsync(subject);
            await nats.FlushAsync();
            for (var i = 0; i < PerRound; i++)
            {
                await publisher.PublishAsync(subject, payload);
            }

            var flushed = publisher.FlushAsync();
            await Test.UntilAsync(() => sub.Messages.Count >= PerRound / 4, "the flood arrives");
            await sub.UnsubscribeAsync();
            await flushed.Within();
            await nats.FlushAsync();
            Assert.Equal(0, sub.Dropped);
        }

        await Task.Delay(200);
        Assert.Empty(errors);
    }

    private static void Deliver(SubscriptionBase sub, ReadOnlySpan<byte> subject, byte[] payload) =>
        sub.Deliver(new RawMessage(subject, default, ReadOnlySequence<byte>.Empty, new ReadOnlySequence<byte>(payload)));
}
