using System.Text;
using CacheProvider.KeyValue;
using Microsoft.Extensions.Caching.Distributed;
using NATS.Client.Core;

namespace CacheProvider.Tests.Caching;

public sealed class CacheIdempotentWriteTests(ITestOutputHelper output)
{
    private static readonly DistributedCacheEntryOptions FiveMinutes = new() { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(5) };

    [Fact]
    public async Task Set_with_idempotent_writes_outlasts_a_frozen_server_and_is_stored_once()
    {
        await using var h = await CacheHarness.StartAsync(output);
        var cache = h.Cache(o => o.IdempotentWrites = true, ImpatientConnection(h));
        await cache.SetAsync("warm", Encoding.UTF8.GetBytes("w"), FiveMinutes); // bucket exists, stream sequence 1

        h.Server.Pause();
        Task set;
        try
        {
            set = cache.SetAsync("k", Encoding.UTF8.GetBytes("v"), FiveMinutes);
            await Task.Delay(TimeSpan.FromSeconds(1.5)); // three request timeouts: the Set is being repeated
            Assert.False(set.IsCompleted);
        }
        finally
        {
            h.Server.Resume();
        }

        await set.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("v", Encoding.UTF8.GetString((await cache.GetAsync("k"))!));
        var stream = await new KvContext(h.Connect()).JetStream.GetStreamAsync("KV_cache");
        Assert.Equal(2UL, stream.Info.State.LastSeq); // every repeat was recognised as the same message: one store
        var raw = await (await new KvContext(h.Connect()).GetBucketAsync("cache")).GetAsync("k", KvReadMode.Leader);
        Assert.True(raw!.Headers!.TryGetValue("Nats-Msg-Id", out var msgId) && !string.IsNullOrEmpty(msgId));
    }

    [Fact]
    public async Task Set_without_idempotent_writes_reports_an_unknown_outcome_when_no_acknowledgement_comes()
    {
        await using var h = await CacheHarness.StartAsync(output);
        var cache = h.Cache(o => o.IdempotentWrites = false, ImpatientConnection(h));
        await cache.SetAsync("warm", Encoding.UTF8.GetBytes("w"), FiveMinutes);

        h.Server.Pause();
        try
        {
            await Assert.ThrowsAsync<KvWriteOutcomeUnknownException>(() => cache.SetAsync("k", Encoding.UTF8.GetBytes("v"), FiveMinutes));
        }
        finally
        {
            h.Server.Resume();
        }

        var raw = await (await new KvContext(h.Connect()).GetBucketAsync("cache")).GetAsync("k", KvReadMode.Leader);
        Assert.False(raw?.Headers?.ContainsKey("Nats-Msg-Id") ?? false); // stored (the server got it after all) or not, but never with an id
    }

    private static NatsConnection ImpatientConnection(CacheHarness h) =>
        h.Connect(o => o with { RequestTimeout = TimeSpan.FromMilliseconds(500) });
}
