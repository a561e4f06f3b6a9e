using Microsoft.Extensions.Caching.Distributed;

namespace CacheProvider.Grains.Caching.Tests;

/// <summary>Entries outlive the cluster in KV: a new cluster re-activates them with their remaining TTL.</summary>
[Collection(CacheClusterCollection.Name)]
public sealed class CacheRestartTests(CacheClusterFixture fixture)
{
    [Fact]
    public async Task After_a_cluster_restart_a_live_entry_comes_back_and_an_expired_one_never_does()
    {
        await using var connection = await fixture.Server.ConnectAsync();
        var live = "r-" + Guid.NewGuid().ToString("N");
        var brief = "r-" + Guid.NewGuid().ToString("N");
        DateTimeOffset briefDeadline;
        DateTimeOffset liveDeadline;

        await using (var first = await CacheCluster.StartAsync(connection))
        {
            var cache = first.ClientCache;
            liveDeadline = DateTimeOffset.UtcNow.AddMinutes(5);
            await cache.SetAsync(live, "survives"u8.ToArray(), new DistributedCacheEntryOptions { AbsoluteExpiration = liveDeadline });
            briefDeadline = DateTimeOffset.UtcNow.AddSeconds(2);
            await cache.SetAsync(brief, "brief"u8.ToArray(), new DistributedCacheEntryOptions { AbsoluteExpiration = briefDeadline });
            Assert.Equal("brief"u8.ToArray(), await cache.GetAsync(brief));
        }

        // The brief entry's deadline passes while no silo runs.
        while (DateTimeOffset.UtcNow < briefDeadline.AddSeconds(1))
        {
            await Task.Delay(200);
        }

        await using var second = await CacheCluster.StartAsync(connection);
        var readsBefore = second.Store.StorageReads;
        Assert.Equal("survives"u8.ToArray(), await second.ClientCache.GetAsync(live));
        Assert.Null(await second.ClientCache.GetAsync(brief));
        Assert.Equal(2, second.Store.StorageReads - readsBefore);

        // The re-activated entry kept its remaining TTL (not a fresh one).
        var bucket = await second.BucketAsync();
        var entry = await bucket.GetAsync(second.KvKeyOf(live));
        Assert.NotNull(entry);
        Assert.NotNull(entry.ExpiresAt);
        Assert.InRange(entry.ExpiresAt.Value, liveDeadline.AddSeconds(-2), liveDeadline.AddSeconds(2));
    }
}
