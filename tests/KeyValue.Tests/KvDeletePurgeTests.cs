using CacheProvider.KeyValue;
using static CacheProvider.KeyValue.Tests.KvTest;

namespace CacheProvider.KeyValue.Tests;

/// <summary>Tombstones: permanent for delete, self-removing for purge with TTL, and clean-up of old ones.</summary>
public sealed class KvDeletePurgeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Plain_delete_leaves_a_permanent_tombstone()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync(markerTtl: TimeSpan.FromSeconds(1));
        for (var i = 0; i < 5; i++)
        {
            await bucket.PutAsync($"k{i}", Bytes("v"));
            await bucket.DeleteAsync($"k{i}");
        }

        await Task.Delay(1500); // longer than any TTL in play: nothing should go away by itself
        var status = await bucket.GetStatusAsync();
        Assert.Equal(5UL, status.Values);
        Assert.All(await Task.WhenAll(Enumerable.Range(0, 5).Select(async i => await bucket.GetLastAsync($"k{i}"))), e => Assert.Equal(KvOperation.Delete, e!.Operation));
    }

    [Fact]
    public async Task Purge_with_ttl_leaves_nothing_behind_and_writes_no_marker()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync(markerTtl: TimeSpan.FromSeconds(5));
        for (var i = 0; i < 20; i++)
        {
            await bucket.PutAsync($"k{i}", Bytes("v"));
            await bucket.PutAsync($"k{i}", Bytes("v2"));
            await bucket.PurgeAsync($"k{i}", TimeSpan.FromSeconds(1));
        }

        Assert.Equal(20UL, (await bucket.GetStatusAsync()).Values); // one purge tombstone per key for now
        Assert.Null(await bucket.GetAsync("k0"));

        // A marker would live 5 s, so an empty stream within that time proves none was written.
        await EventuallyAsync(async () => (await bucket.GetStatusAsync()).Values == 0, "purge tombstones expired", TimeSpan.FromSeconds(4));
        Assert.Null(await bucket.GetLastAsync("k0", KvReadMode.Leader));
    }

    [Fact]
    public async Task Purge_removes_all_history_of_the_key_and_keeps_one_tombstone()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.Kv.CreateBucketAsync(new KvBucketConfig { Bucket = "hist", History = 10 });
        for (var i = 0; i < 5; i++)
        {
            await bucket.PutAsync("k", Bytes($"v{i}"));
        }

        await bucket.PutAsync("other", Bytes("x"));
        await bucket.PurgeAsync("k");
        var history = await bucket.HistoryAsync("k").ToListAsync();
        Assert.Equal(KvOperation.Purge, Assert.Single(history).Operation);
        Assert.Equal(2UL, (await bucket.GetStatusAsync()).Values);
    }

    [Fact]
    public async Task Purge_deletes_removes_old_tombstones_and_shrinks_the_delete_map()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        await bucket.PutAsync("live", Bytes("stays"));
        for (var i = 0; i < 10; i++)
        {
            await bucket.PutAsync($"gone{i}", Bytes("v"));
            await bucket.DeleteAsync($"gone{i}");
        }

        await bucket.PutAsync("purged", Bytes("v"));
        await bucket.PurgeAsync("purged");
        Assert.Equal(12UL, (await bucket.GetStatusAsync()).Values);

        // Recent tombstones survive the default age threshold.
        Assert.Equal(0UL, await bucket.PurgeDeletesAsync());
        Assert.Equal(12UL, (await bucket.GetStatusAsync()).Values);

        var removed = await bucket.PurgeDeletesAsync(olderThan: TimeSpan.Zero);
        Assert.Equal(11UL, removed);
        var status = await bucket.GetStatusAsync();
        Assert.Equal(1UL, status.Values);
        Assert.Equal("stays", Text(await bucket.GetAsync("live")));
        Assert.Null(await bucket.GetLastAsync("gone0", KvReadMode.Leader));
    }

    [Fact]
    public async Task Purge_deletes_leaves_live_values_and_expiry_markers_alone()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync(markerTtl: TimeSpan.FromSeconds(5));
        await bucket.PutAsync("live", Bytes("v"));
        var rev = await bucket.PutAsync("ttl", Bytes("v"), TimeSpan.FromSeconds(1));
        await EventuallyAsync(async () => (await bucket.GetLastAsync("ttl", KvReadMode.Leader))?.Revision > rev, "marker");
        Assert.Equal(0UL, await bucket.PurgeDeletesAsync(olderThan: TimeSpan.Zero));
        Assert.Equal(2UL, (await bucket.GetStatusAsync()).Values);
    }

    [Fact]
    public async Task Purge_deletes_of_2000_tombstones_removes_them_all_and_keeps_every_live_value()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        const int Tombstones = 2000;
        var writes = new List<Task>(Tombstones * 2);
        for (var i = 0; i < Tombstones; i++)
        {
            writes.Add(bucket.PutAsync($"live.{i % 50}", Bytes("stays")).AsTask());
            writes.Add(bucket.DeleteAsync($"gone.{i}").AsTask());
        }

        await Task.WhenAll(writes);
        Assert.Equal((ulong)(Tombstones + 50), (await bucket.GetStatusAsync()).Messages);

        var sw = System.Diagnostics.Stopwatch.StartNew();
        var removed = await bucket.PurgeDeletesAsync(olderThan: TimeSpan.Zero);
        sw.Stop();
        output.WriteLine($"PurgeDeletesAsync removed {removed} tombstones in {sw.Elapsed.TotalMilliseconds:F0} ms");

        Assert.Equal((ulong)Tombstones, removed);
        var status = await bucket.GetStatusAsync();
        Assert.Equal(50UL, status.Messages);
        Assert.Equal(50L, await bucket.CountValuesAsync());
        Assert.Equal("stays", Text(await bucket.GetAsync("live.7")));
    }

    [Fact]
    public async Task Purge_deletes_on_a_history_bucket_trims_deleted_keys_to_their_tombstone_and_keeps_live_history()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.Kv.CreateBucketAsync(new KvBucketConfig { Bucket = "hist", History = 5 });
        for (var i = 0; i < 3; i++)
        {
            await bucket.PutAsync("live", Bytes($"l{i}"));
            await bucket.PutAsync("gone", Bytes($"g{i}"));
        }

        var tombstone = await bucket.DeleteAsync("gone");

        // Recent tombstone: only the revisions behind it go.
        Assert.Equal(3UL, await bucket.PurgeDeletesAsync());
        Assert.Equal([tombstone], await bucket.HistoryAsync("gone").Select(e => e.Revision).ToListAsync());
        Assert.Equal(["l0", "l1", "l2"], await bucket.HistoryAsync("live").Select(Text).ToListAsync());

        Assert.Equal(1UL, await bucket.PurgeDeletesAsync(olderThan: TimeSpan.Zero));
        Assert.Empty(await bucket.HistoryAsync("gone").ToListAsync());
        Assert.Equal(3UL, (await bucket.GetStatusAsync()).Messages);
    }
}
