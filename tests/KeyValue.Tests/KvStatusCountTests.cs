using CacheProvider.KeyValue;
using static CacheProvider.KeyValue.Tests.KvTest;

namespace CacheProvider.KeyValue.Tests;

/// <summary>What the status counters count: stored messages versus keys that hold a value.</summary>
public sealed class KvStatusCountTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Status_separates_stored_messages_and_keys_from_the_exact_count_of_live_values()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync(markerTtl: TimeSpan.FromSeconds(30));
        await bucket.PutAsync("live.a", Bytes("a"));
        await bucket.PutAsync("live.b", Bytes("b"));
        await bucket.PutAsync("other", Bytes("o"));
        await bucket.PutAsync("deleted", Bytes("v"));
        await bucket.DeleteAsync("deleted");
        await bucket.PutAsync("purged", Bytes("v"));
        await bucket.PurgeAsync("purged");
        var rev = await bucket.PutAsync("expired", Bytes("v"), TimeSpan.FromSeconds(1));
        await EventuallyAsync(async () => (await bucket.GetLastAsync("expired", KvReadMode.Leader))?.Revision > rev, "expiry marker written");

        var status = await bucket.GetStatusAsync();
        Assert.Equal(6UL, status.Messages);    // 3 values, 2 tombstones, 1 marker
        Assert.Equal(6L, status.Keys);         // history 1: one message per key
        Assert.Equal(status.Messages, status.Values);
        Assert.Equal(3L, await bucket.CountValuesAsync());
        Assert.Equal(2L, await bucket.CountValuesAsync("live.>"));
        Assert.Equal(0L, await bucket.CountValuesAsync("deleted"));
    }

    [Fact]
    public async Task Keys_counts_each_key_once_whatever_its_history()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.Kv.CreateBucketAsync(new KvBucketConfig { Bucket = "hist", History = 5 });
        for (var i = 0; i < 3; i++)
        {
            await bucket.PutAsync("a", Bytes($"a{i}"));
            await bucket.PutAsync("b", Bytes($"b{i}"));
        }

        await bucket.DeleteAsync("b");
        var status = await bucket.GetStatusAsync();
        Assert.Equal(7UL, status.Messages);
        Assert.Equal(2L, status.Keys);
        Assert.Equal(1L, await bucket.CountValuesAsync());
    }
}
