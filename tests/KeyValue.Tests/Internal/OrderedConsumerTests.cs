using CacheProvider.KeyValue.Internal;

namespace CacheProvider.KeyValue.Tests.Internal;

public sealed class OrderedConsumerTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Heartbeat = TimeSpan.FromMilliseconds(500);

    private static async Task<List<Delivery>> TakeAsync(IAsyncEnumerator<Delivery> e, int count)
    {
        var list = new List<Delivery>();
        while (list.Count < count)
        {
            Assert.True(await e.MoveNextAsync(), "consumer ended early");
            list.Add(e.Current);
        }

        return list;
    }

    private static async Task PublishAsync(JsHarness h, int from, int count, string subject = "o.{0}")
    {
        for (var i = from; i < from + count; i++)
        {
            await h.PublishAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, subject, i % 3), JsHarness.Bytes($"m{i}"));
        }
    }

    [Fact]
    public async Task Deliver_all_yields_every_message_in_stream_order_with_consecutive_consumer_sequences()
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("O");
        await PublishAsync(h, 0, 50);
        using var cts = new CancellationTokenSource(JsHarness.Patience);
        await using var consumer = await OrderedConsumer.CreateAsync(h.Api, "O", new OrderedConsumerOptions { IdleHeartbeat = Heartbeat }, cts.Token);
        Assert.Equal(50UL, consumer.InitialPending);
        await using var e = consumer.ReadAllAsync(cts.Token).GetAsyncEnumerator(cts.Token);
        var got = await TakeAsync(e, 50);
        Assert.Equal(Enumerable.Range(1, 50).Select(i => (ulong)i), got.Select(m => m.StreamSequence));
        Assert.Equal(Enumerable.Range(1, 50).Select(i => (ulong)i), got.Select(m => m.ConsumerSequence));
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"m{i}"), got.Select(m => JsHarness.Text(m.Msg.Payload)));
        Assert.Equal(0UL, got[^1].Pending);

        // Live messages follow the backlog.
        await PublishAsync(h, 50, 5);
        Assert.Equal(["m50", "m51", "m52", "m53", "m54"], (await TakeAsync(e, 5)).Select(m => JsHarness.Text(m.Msg.Payload)));
        Assert.Equal(0, consumer.Resets);
    }

    [Fact]
    public async Task Last_per_subject_yields_only_the_newest_message_of_each_filtered_subject()
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("O");
        await PublishAsync(h, 0, 9); // o.0, o.1, o.2 three times each
        await h.PublishAsync("o.other.x", JsHarness.Bytes("other"));
        using var cts = new CancellationTokenSource(JsHarness.Patience);
        await using var consumer = await OrderedConsumer.CreateAsync(h.Api, "O", new OrderedConsumerOptions
        {
            DeliverPolicy = DeliverPolicy.LastPerSubject,
            FilterSubjects = ["o.*"],
            IdleHeartbeat = Heartbeat,
        }, cts.Token);
        Assert.Equal(3UL, consumer.InitialPending);
        await using var e = consumer.ReadAllAsync(cts.Token).GetAsyncEnumerator(cts.Token);
        var got = await TakeAsync(e, 3);
        Assert.Equal(["m6", "m7", "m8"], got.Select(m => JsHarness.Text(m.Msg.Payload)));
    }

    [Fact]
    public async Task Deliver_new_skips_the_backlog_and_by_start_sequence_starts_there()
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("O");
        await PublishAsync(h, 0, 10);
        using var cts = new CancellationTokenSource(JsHarness.Patience);

        await using var fromSeven = await OrderedConsumer.CreateAsync(h.Api, "O", new OrderedConsumerOptions { DeliverPolicy = DeliverPolicy.ByStartSequence, StartSequence = 7, IdleHeartbeat = Heartbeat }, cts.Token);
        await using var e1 = fromSeven.ReadAllAsync(cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.Equal([7UL, 8, 9, 10], (await TakeAsync(e1, 4)).Select(m => m.StreamSequence));

        await using var onlyNew = await OrderedConsumer.CreateAsync(h.Api, "O", new OrderedConsumerOptions { DeliverPolicy = DeliverPolicy.New, IdleHeartbeat = Heartbeat }, cts.Token);
        Assert.Equal(0UL, onlyNew.InitialPending);
        await using var e2 = onlyNew.ReadAllAsync(cts.Token).GetAsyncEnumerator(cts.Token);
        var next = e2.MoveNextAsync();
        await Task.Delay(200);
        await h.PublishAsync("o.1", JsHarness.Bytes("fresh"));
        Assert.True(await next);
        Assert.Equal("fresh", JsHarness.Text(e2.Current.Msg.Payload));
        Assert.Equal(11UL, e2.Current.StreamSequence);
    }

    [Fact]
    public async Task Headers_only_delivers_headers_and_the_payload_size_but_no_payload()
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("O");
        await h.PublishAsync("o.1", new byte[1234], new NatsHeaders { { "X-Kind", "blob" } });
        using var cts = new CancellationTokenSource(JsHarness.Patience);
        await using var consumer = await OrderedConsumer.CreateAsync(h.Api, "O", new OrderedConsumerOptions { HeadersOnly = true, IdleHeartbeat = Heartbeat }, cts.Token);
        await using var e = consumer.ReadAllAsync(cts.Token).GetAsyncEnumerator(cts.Token);
        var msg = (await TakeAsync(e, 1))[0];
        Assert.Empty(msg.Msg.Payload);
        Assert.Equal("1234", msg.Msg.Header("Nats-Msg-Size"u8));
        Assert.Equal("blob", msg.Msg.Header("X-Kind"u8));
    }

    [Fact]
    public async Task Large_backlog_is_delivered_completely_through_flow_control()
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("O");
        var payload = new byte[4096];
        var acks = Enumerable.Range(0, 3000).Select(async i => await h.PublishAsync($"o.{i % 7}", payload));
        await Task.WhenAll(acks);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var consumer = await OrderedConsumer.CreateAsync(h.Api, "O", new OrderedConsumerOptions { IdleHeartbeat = Heartbeat }, cts.Token);
        await using var e = consumer.ReadAllAsync(cts.Token).GetAsyncEnumerator(cts.Token);
        var got = await TakeAsync(e, 3000);
        Assert.Equal(Enumerable.Range(1, 3000).Select(i => (ulong)i), got.Select(m => m.StreamSequence));
        Assert.Equal(0, consumer.Resets);
    }

    [Fact]
    public async Task Consumer_recreates_itself_after_server_kill_and_restart_without_skipping_or_duplicating()
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("O");
        await PublishAsync(h, 0, 20);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var consumer = await OrderedConsumer.CreateAsync(h.Api, "O", new OrderedConsumerOptions { IdleHeartbeat = Heartbeat }, cts.Token);
        var reasons = new List<string>();
        consumer.Reset += (_, r) => reasons.Add(r);
        await using var e = consumer.ReadAllAsync(cts.Token).GetAsyncEnumerator(cts.Token);

        // Read only part of the backlog, so the rest has to come from a recreated consumer.
        var got = await TakeAsync(e, 10);

        await h.Server.KillAsync();
        await h.Server.StartAgainAsync();
        await KvReconnect.WaitConnectedAsync(h.Connection);
        await PublishAsync(h, 20, 10);

        got.AddRange(await TakeAsync(e, 20));
        Assert.Equal(Enumerable.Range(1, 30).Select(i => (ulong)i), got.Select(m => m.StreamSequence));
        Assert.Equal(Enumerable.Range(0, 30).Select(i => $"m{i}"), got.Select(m => JsHarness.Text(m.Msg.Payload)));
        Assert.True(consumer.Resets >= 1);
        Assert.NotEmpty(reasons);
    }

    [Fact]
    public async Task Deliver_new_consumer_killed_before_its_first_message_still_delivers_what_is_published_after_restart()
    {
        await using var h = await JsHarness.StartAsync(output);
        await h.StreamAsync("O");
        await PublishAsync(h, 0, 5);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        // A long heartbeat: the reconnect itself, not a heartbeat timeout, has to trigger the recreation.
        await using var consumer = await OrderedConsumer.CreateAsync(h.Api, "O", new OrderedConsumerOptions { DeliverPolicy = DeliverPolicy.New, IdleHeartbeat = TimeSpan.FromSeconds(5) }, cts.Token);
        await using var e = consumer.ReadAllAsync(cts.Token).GetAsyncEnumerator(cts.Token);
        var next = e.MoveNextAsync();
        await Task.Delay(100);

        await h.Server.KillAsync();
        await h.Server.StartAgainAsync();
        await KvReconnect.WaitConnectedAsync(h.Connection);

        // Published before the consumer had a chance to be recreated: a "new" consumer created now would miss it.
        await h.PublishAsync("o.1", JsHarness.Bytes("after-restart"));
        var nextTask = next.AsTask();
        if (await Task.WhenAny(nextTask, Task.Delay(TimeSpan.FromSeconds(12))) != nextTask)
        {
            // Stop the pending read first: an async iterator cannot be disposed while MoveNextAsync is running.
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => nextTask);
            Assert.Fail("the message published after the restart never arrived");
        }

        Assert.True(await nextTask, "consumer ended");
        Assert.Equal("after-restart", JsHarness.Text(e.Current.Msg.Payload));
        Assert.Equal(6UL, e.Current.StreamSequence);
    }
}
