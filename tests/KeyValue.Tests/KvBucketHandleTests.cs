using CacheProvider.KeyValue;

namespace CacheProvider.KeyValue.Tests;

public sealed class KvBucketHandleTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_failed_first_attempt_is_not_remembered_and_the_next_call_creates_the_bucket()
    {
        await using var server = await NatsServer.StartAsync(output);
        var port = server.Port;
        await server.StopAsync();
        await using var nats = new NatsConnection(TestNats.Options(server.Url) with { ConnectTimeout = TimeSpan.FromSeconds(1), RequestTimeout = TimeSpan.FromSeconds(2) });
        var handle = new KvBucketHandle(new KvContext(nats), new KvBucketConfig { Bucket = "lazy", LimitMarkerTtl = TimeSpan.FromSeconds(1) });
        await Assert.ThrowsAnyAsync<NatsException>(async () => await handle.GetAsync());

        await server.StartAgainAsync();
        Assert.Equal(port, server.Port);
        var bucket = await handle.GetAsync();
        Assert.Equal("lazy", bucket.Bucket);
        Assert.Same(bucket, await handle.GetAsync());
    }

    [Fact]
    public async Task An_existing_bucket_with_other_settings_is_bound_only_if_the_check_accepts_it()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var nats = new NatsConnection(TestNats.Options(server.Url));
        var kv = new KvContext(nats);
        await kv.CreateBucketAsync(new KvBucketConfig { Bucket = "shared", History = 5 });
        var wanted = new KvBucketConfig { Bucket = "shared", LimitMarkerTtl = TimeSpan.FromSeconds(1) };

        var refused = new KvBucketHandle(kv, wanted, (b, _) =>
        {
            if (b.History != 1)
            {
                throw new InvalidOperationException("history");
            }
        });
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await refused.GetAsync());

        NatsJSApiException? seen = null;
        var accepted = new KvBucketHandle(kv, wanted, (_, refusal) => seen = refusal);
        Assert.Equal(5, (await accepted.GetAsync()).History);
        Assert.Equal(JetStreamErrorCodes.StreamNameInUse, seen!.Error.ErrCode);
    }

    [Fact]
    public async Task A_caller_that_gives_up_does_not_fail_the_others_waiting_for_the_same_attempt()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var nats = new NatsConnection(TestNats.Options(server.Url));
        var handle = new KvBucketHandle(new KvContext(nats), new KvBucketConfig { Bucket = "shared_attempt" });
        using var cancelled = new CancellationTokenSource();
        var first = handle.GetAsync(cancelled.Token).AsTask();
        var second = handle.GetAsync().AsTask();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        Assert.Equal("shared_attempt", (await second).Bucket);
    }
}
