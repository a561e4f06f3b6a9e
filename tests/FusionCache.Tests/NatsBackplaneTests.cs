using System.Collections.Concurrent;
using NATS.Client.Core;
using ZiggyCreatures.Caching.Fusion.Backplane;

namespace CacheProvider.FusionCache.Tests;

/// <summary>The <see cref="IFusionCacheBackplane"/> contract, driven the way FusionCache drives it.</summary>
public sealed class NatsBackplaneTests(ITestOutputHelper output)
{
    private sealed class Recorder
    {
        public ConcurrentQueue<BackplaneMessage> Messages { get; } = new();

        public ConcurrentQueue<BackplaneConnectionInfo> Connects { get; } = new();

        public BackplaneSubscriptionOptions Options(string cacheName, string instanceId) => new(
            cacheName,
            instanceId,
            cacheName + ".Backplane:v2",
            info => Connects.Enqueue(info),
            message => Messages.Enqueue(message),
            info => { Connects.Enqueue(info); return ValueTask.CompletedTask; },
            message => { Messages.Enqueue(message); return ValueTask.CompletedTask; });
    }

    private static readonly ZiggyCreatures.Caching.Fusion.FusionCacheEntryOptions EntryOptions = new();

    [Fact]
    public async Task Messages_of_other_instances_arrive_and_the_instances_own_are_dropped()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var nats = await server.ConnectAsync();
        var one = new Recorder();
        var two = new Recorder();
        await using var bp1 = new NatsBackplane(nats);
        await using var bp2 = new NatsBackplane(nats);
        await bp1.SubscribeAsync(one.Options("orders", "one"));
        await bp2.SubscribeAsync(two.Options("orders", "two"));

        // One connection: the server delivers these three in this order to both subscriptions.
        await bp1.PublishAsync(BackplaneMessage.CreateForEntrySet("one", "a", 1), EntryOptions);
        await bp2.PublishAsync(BackplaneMessage.CreateForEntryRemove("two", "b", 2), EntryOptions);
        await bp1.PublishAsync(BackplaneMessage.CreateForEntryExpire("one", "c", 3), EntryOptions);

        await Eventually.TrueAsync(() => Task.FromResult(two.Messages.Count >= 2 && !one.Messages.IsEmpty), "both got the others' messages");
        Assert.Equal(["a", "c"], two.Messages.Select(m => m.CacheKey));
        Assert.Equal([BackplaneMessageAction.EntrySet, BackplaneMessageAction.EntryExpire], two.Messages.Select(m => m.Action));
        var fromTwo = Assert.Single(one.Messages);
        Assert.Equal(("two", "b", 2L, BackplaneMessageAction.EntryRemove), (fromTwo.SourceId, fromTwo.CacheKey, fromTwo.Timestamp, fromTwo.Action));
        Assert.False(one.Connects.Single().IsReconnection);
    }

    [Fact]
    public async Task Messages_for_one_key_reach_fusioncache_in_the_order_they_were_published()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var nats = await server.ConnectAsync();
        var one = new Recorder();
        await using var bp1 = new NatsBackplane(nats);
        await using var bp2 = new NatsBackplane(nats);
        await bp1.SubscribeAsync(one.Options("orders", "one"));
        await bp2.SubscribeAsync(new Recorder().Options("orders", "two"));

        for (var i = 1; i <= 500; i++)
        {
            var message = i % 3 == 0 ? BackplaneMessage.CreateForEntryRemove("two", "hot", i) : BackplaneMessage.CreateForEntrySet("two", "hot", i);
            await bp2.PublishAsync(message, EntryOptions);
        }

        await Eventually.TrueAsync(() => Task.FromResult(one.Messages.Count >= 500), "all 500 arrived");
        Assert.Equal(Enumerable.Range(1, 500).Select(i => (long)i), one.Messages.Select(m => m.Timestamp));
    }

    [Fact]
    public async Task A_slow_message_does_not_hold_up_messages_for_other_keys()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var nats = await server.ConnectAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handled = new ConcurrentQueue<string>();
        async ValueTask Handle(BackplaneMessage m)
        {
            if (m.CacheKey == "slow")
            {
                await release.Task;
            }

            handled.Enqueue(m.CacheKey!);
        }

        await using var bp1 = new NatsBackplane(nats);
        await using var bp2 = new NatsBackplane(nats);
        await bp1.SubscribeAsync(new BackplaneSubscriptionOptions("orders", "one", "orders.Backplane:v2", _ => { }, _ => { }, _ => ValueTask.CompletedTask, Handle));
        await bp2.SubscribeAsync(new Recorder().Options("orders", "two"));

        await bp2.PublishAsync(BackplaneMessage.CreateForEntrySet("two", "slow", 1), EntryOptions);
        for (var i = 0; i < 10; i++)
        {
            // 16 lanes: with ten keys, one lands outside the slow key's lane all but certainly.
            await bp2.PublishAsync(BackplaneMessage.CreateForEntrySet("two", "fast-" + i, 2), EntryOptions);
        }

        await Eventually.TrueAsync(() => Task.FromResult(!handled.IsEmpty), "a fast key was handled while the slow one waits");
        Assert.DoesNotContain("slow", handled);
        release.SetResult();
        await Eventually.TrueAsync(() => Task.FromResult(handled.Count == 11), "everything handled");
    }

    [Fact]
    public async Task The_wire_format_is_fusioncaches_binary_message_on_a_subject_with_the_cache_name()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var nats = await server.ConnectAsync();
        await using var bp = new NatsBackplane(nats, new NatsBackplaneOptions { SubjectPrefix = "app.fc" });
        await bp.SubscribeAsync(new Recorder().Options("orders", "one"));
        Assert.Equal("app.fc.orders.Backplane:v2", bp.Subject);

        await using var raw = await nats.SubscribeCoreAsync<byte[]>(bp.Subject!);
        await nats.PingAsync();
        var message = BackplaneMessage.CreateForEntrySet("one", "ключ:1", 638_000_000_000_000_000);
        await bp.PublishAsync(message, EntryOptions);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var received = await raw.Msgs.ReadAsync(cts.Token);
        Assert.Equal(BackplaneMessage.ToByteArray(message), received.Data);
    }

    [Fact]
    public async Task A_foreign_fusioncache_message_published_on_the_subject_reaches_the_cache_and_garbage_does_not()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var nats = await server.ConnectAsync();
        var rec = new Recorder();
        await using var bp = new NatsBackplane(nats);
        await bp.SubscribeAsync(rec.Options("orders", "one"));

        await nats.PublishAsync(bp.Subject!, new byte[] { 9, 9, 9 });
        await nats.PublishAsync(bp.Subject!, BackplaneMessage.ToByteArray(BackplaneMessage.CreateForEntryRemove("redis-node", "k", 5)));

        await Eventually.TrueAsync(() => Task.FromResult(!rec.Messages.IsEmpty), "the valid message arrived");
        var message = Assert.Single(rec.Messages);
        Assert.Equal(("redis-node", "k"), (message.SourceId, message.CacheKey));
    }

    [Fact]
    public async Task A_server_restart_is_reported_to_fusioncache_as_a_reconnection_and_messages_flow_again()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var n1 = await server.ConnectAsync();
        await using var n2 = await server.ConnectAsync();
        var one = new Recorder();
        await using var bp1 = new NatsBackplane(n1);
        await using var bp2 = new NatsBackplane(n2);
        await bp1.SubscribeAsync(one.Options("orders", "one"));
        await bp2.SubscribeAsync(new Recorder().Options("orders", "two"));

        await server.KillAsync();
        await server.StartAgainAsync();
        await Eventually.TrueAsync(() => Task.FromResult(one.Connects.Any(c => c.IsReconnection)), "bp1 reported a reconnection");
        await Eventually.OpenAsync(n2);

        await bp2.PublishAsync(BackplaneMessage.CreateForEntrySet("two", "after", 7), EntryOptions);
        await Eventually.TrueAsync(() => Task.FromResult(!one.Messages.IsEmpty), "bp1 got the message after the restart");
        Assert.Equal("after", Assert.Single(one.Messages).CacheKey);
    }

    [Fact]
    public async Task Publishing_while_the_server_is_down_fails_so_fusioncache_auto_recovery_keeps_the_message()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var nats = await server.ConnectAsync();
        await using var bp = new NatsBackplane(nats);
        await bp.SubscribeAsync(new Recorder().Options("orders", "one"));

        await server.KillAsync();
        await Eventually.TrueAsync(() => Task.FromResult(nats.ConnectionState != NatsConnectionState.Open), "the client saw the outage");
        await Assert.ThrowsAsync<ZiggyCreatures.Caching.Fusion.FusionCacheBackplaneException>(
            async () => await bp.PublishAsync(BackplaneMessage.CreateForEntrySet("one", "k", 1), EntryOptions));
    }

    [Fact]
    public async Task Subscribing_while_nats_is_down_succeeds_later_and_reports_a_reconnection()
    {
        await using var server = await NatsServer.StartAsync(output);
        await server.KillAsync();
        await using var nats = new NatsConnection(TestNats.Options(server.Url));
        var rec = new Recorder();
        await using var bp = new NatsBackplane(nats, new NatsBackplaneOptions { SubscribeRetryDelay = TimeSpan.FromMilliseconds(100) });
        await bp.SubscribeAsync(rec.Options("orders", "one"));
        Assert.False(bp.IsSubscribed);

        await server.StartAgainAsync();
        await Eventually.TrueAsync(() => Task.FromResult(bp.IsSubscribed && rec.Connects.Any(c => c.IsReconnection)), "subscribed once NATS is up");

        await using var other = await server.ConnectAsync();
        await other.PublishAsync(bp.Subject!, BackplaneMessage.ToByteArray(BackplaneMessage.CreateForEntrySet("two", "k", 1)));
        await Eventually.TrueAsync(() => Task.FromResult(!rec.Messages.IsEmpty), "the message arrived");
    }

    [Fact]
    public async Task After_unsubscribe_no_more_messages_reach_the_cache()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var nats = await server.ConnectAsync();
        var one = new Recorder();
        var two = new Recorder();
        await using var bp1 = new NatsBackplane(nats);
        await using var bp2 = new NatsBackplane(nats);
        await bp1.SubscribeAsync(one.Options("orders", "one"));
        await bp2.SubscribeAsync(two.Options("orders", "two"));
        await bp1.UnsubscribeAsync();

        await nats.PublishAsync(bp2.Subject!, BackplaneMessage.ToByteArray(BackplaneMessage.CreateForEntrySet("three", "k", 1)));
        await Eventually.TrueAsync(() => Task.FromResult(!two.Messages.IsEmpty), "the still-subscribed backplane got it");
        Assert.Empty(one.Messages);
    }
}
