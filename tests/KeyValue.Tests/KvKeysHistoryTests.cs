using CacheProvider.KeyValue;
using static CacheProvider.KeyValue.Tests.KvTest;

namespace CacheProvider.KeyValue.Tests;

public sealed class KvKeysHistoryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Keys_lists_only_keys_holding_a_value_and_honours_wildcard_filters()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync(markerTtl: TimeSpan.FromSeconds(5));
        await bucket.PutAsync("user.1.name", Bytes("a"));
        await bucket.PutAsync("user.2.name", Bytes("b"));
        await bucket.PutAsync("user.2.mail", Bytes("c"));
        await bucket.PutAsync("user.3.name", Bytes("d"));
        await bucket.DeleteAsync("user.3.name");
        await bucket.PutAsync("user.4.name", Bytes("e"));
        await bucket.PurgeAsync("user.4.name");
        await bucket.PutAsync("order.1", Bytes("f"));
        var rev = await bucket.PutAsync("user.5.name", Bytes("g"), TimeSpan.FromSeconds(1));
        await EventuallyAsync(async () => (await bucket.GetLastAsync("user.5.name", KvReadMode.Leader))?.Revision > rev, "marker for user.5.name");

        Assert.Equal(["order.1", "user.1.name", "user.2.mail", "user.2.name"], (await bucket.KeysAsync().ToListAsync()).Order(StringComparer.Ordinal));
        Assert.Equal(["user.1.name", "user.2.name"], (await bucket.KeysAsync("user.*.name").ToListAsync()).Order(StringComparer.Ordinal));
        Assert.Equal(["user.2.mail", "user.2.name"], (await bucket.KeysAsync("user.2.>").ToListAsync()).Order(StringComparer.Ordinal));
        Assert.Empty(await bucket.KeysAsync("nothing.>").ToListAsync());
    }

    [Fact]
    public async Task Keys_of_an_empty_bucket_is_empty_without_waiting()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        Assert.Empty(await bucket.KeysAsync(cancellationToken: cts.Token).ToListAsync(cts.Token));
    }

    [Fact]
    public async Task History_returns_every_kept_revision_of_one_key_oldest_first()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.Kv.CreateBucketAsync(new KvBucketConfig { Bucket = "hist", History = 3 });
        var revs = new List<ulong>();
        for (var i = 0; i < 4; i++)
        {
            revs.Add(await bucket.PutAsync("k", Bytes($"v{i}")));
            await bucket.PutAsync("k2", Bytes($"other{i}"));
        }

        var del = await bucket.DeleteAsync("k");
        var history = await bucket.HistoryAsync("k").ToListAsync();
        Assert.Equal([revs[2], revs[3], del], history.Select(e => e.Revision));
        Assert.Equal(["v2", "v3", ""], history.Select(Text));
        Assert.Equal([KvOperation.Put, KvOperation.Put, KvOperation.Delete], history.Select(e => e.Operation));
        Assert.All(history, e => Assert.Equal("k", e.Key));
        Assert.Equal(0UL, history[^1].Delta);
        Assert.Empty(await bucket.HistoryAsync("never").ToListAsync());
    }
}
