using Microsoft.Extensions.Caching.Distributed;

namespace CacheProvider.Grains.Caching.Tests;

/// <summary>Expired entries leave KV and deactivate their grains; sliding renewals are rare (expiry rules: the behaviour suite).</summary>
[Collection(CacheClusterCollection.Name)]
public sealed class CacheExpiryTests(CacheClusterFixture fixture)
{
    private CacheCluster Cluster => fixture.Cluster;

    private static string NewKey() => "e-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task An_entry_with_an_absolute_expiration_reads_as_missing_after_it_and_leaves_KV()
    {
        var cache = Cluster.ClientCache;
        var key = NewKey();
        var deadline = DateTimeOffset.UtcNow.AddSeconds(2);
        await cache.SetAsync(key, "abs"u8.ToArray(), new DistributedCacheEntryOptions { AbsoluteExpiration = deadline });
        Assert.Equal("abs"u8.ToArray(), await cache.GetAsync(key));

        Assert.True(await Eventually.HoldsAsync(async () => await cache.GetAsync(key) is null));
        Assert.True(DateTimeOffset.UtcNow >= deadline, "read as missing before its absolute expiration");
        var bucket = await Cluster.BucketAsync();
        Assert.True(await Eventually.HoldsAsync(async () => await bucket.GetAsync(Cluster.KvKeyOf(key)) is null));
    }

    [Fact]
    public async Task A_sliding_entry_lives_while_read_renewing_only_once_per_fraction_of_its_window_then_expires()
    {
        var cache = Cluster.ClientCache;
        var key = NewKey();
        var window = TimeSpan.FromSeconds(3);
        await cache.SetAsync(key, "slide"u8.ToArray(), new DistributedCacheEntryOptions { SlidingExpiration = window });

        // Read for more than two windows: every read finds it, and most reads do not rewrite it.
        var writesBefore = Cluster.Store.StorageWrites;
        var reads = 0;
        var until = DateTime.UtcNow + window * 2.5;
        while (DateTime.UtcNow < until)
        {
            Assert.Equal("slide"u8.ToArray(), await cache.GetAsync(key));
            reads++;
            await Task.Delay(100);
        }

        var renewals = Cluster.Store.StorageWrites - writesBefore;
        Assert.True(renewals >= 1, "a sliding entry read past its window was never renewed");
        Assert.True(renewals * 2 < reads, $"{renewals} renewals for {reads} reads");

        // Unread (a read would slide it again, so watch KV instead), it expires: the key leaves KV and the grain.
        var lastRead = DateTimeOffset.UtcNow;
        var bucket = await Cluster.BucketAsync();
        var kvKey = Cluster.KvKeyOf(key);
        Assert.True(await Eventually.HoldsAsync(async () => await bucket.GetAsync(kvKey) is null), "the sliding entry stayed in KV after reads stopped");
        Assert.True(DateTimeOffset.UtcNow - lastRead >= window, "expired less than a window after the last read");
        Assert.True(await Eventually.HoldsAsync(async () => await Cluster.LiveActivationsAsync([key]) == 0), "the expired sliding entry's grain stayed activated");
        Assert.Null(await cache.GetAsync(key));
    }

    [Fact]
    public async Task A_batch_of_entries_with_a_2_s_TTL_deactivates_its_grains_when_they_expire()
    {
        var cache = Cluster.ClientCache;
        var keys = Enumerable.Range(0, 8).Select(_ => NewKey()).ToArray();
        foreach (var key in keys)
        {
            await cache.SetAsync(key, "batch"u8.ToArray(), new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(2) });
        }

        Assert.Equal(keys.Length, await Cluster.LiveActivationsAsync(keys));

        // No reads from here on (a read would activate a grain again): the server's expiry markers deactivate them.
        Assert.True(await Eventually.HoldsAsync(async () => await Cluster.LiveActivationsAsync(keys) == 0), "cache grains stayed activated after their entries expired");
        foreach (var key in keys)
        {
            Assert.Null(await cache.GetAsync(key));
        }
    }

    [Fact]
    public async Task An_entry_deactivates_its_grain_at_its_absolute_deadline_without_the_servers_marker()
    {
        // The server is paused after the set: no expiry marker can be written or delivered, so only the grain's own
        // deadline can end the activation.
        await using var server = await NatsServer.StartAsync();
        await using var connection = await server.ConnectAsync();
        await using var cluster = await CacheCluster.StartAsync(connection);
        var cache = cluster.ClientCache;
        var key = NewKey();
        var deadline = DateTimeOffset.UtcNow.AddSeconds(1.5);
        await cache.SetAsync(key, "own"u8.ToArray(), new DistributedCacheEntryOptions { AbsoluteExpiration = deadline });
        Assert.Equal(1, await cluster.LiveActivationsAsync([key]));

        server.Pause();
        try
        {
            Assert.True(await Eventually.HoldsAsync(async () => await cluster.LiveActivationsAsync([key]) == 0), "the grain outlived its entry's absolute deadline");
            Assert.True(DateTimeOffset.UtcNow >= deadline, "deactivated before the deadline");
        }
        finally
        {
            server.Resume();
        }

        Assert.Null(await cache.GetAsync(key));
    }
}
