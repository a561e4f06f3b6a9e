using CacheProvider.KeyValue;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;

namespace CacheProvider.Grains.Caching.Tests;

/// <summary>
/// What is particular to the grain-served cache: its storage, writes by others, registration, NATS failures. The
/// IDistributedCache contract itself is the shared behaviour suite (OrleansDistributedCacheBehaviourTests).
/// </summary>
[Collection(CacheClusterCollection.Name)]
public sealed class CacheBasicsTests(CacheClusterFixture fixture)
{
    private static readonly DistributedCacheEntryOptions NoExpiry = new();

    private CacheCluster Cluster => fixture.Cluster;

    private static string NewKey() => "k-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task The_entry_is_persisted_through_the_cache_grain_storage_with_its_expiration_as_its_TTL()
    {
        var cache = Cluster.ClientCache;
        var key = NewKey();
        var before = DateTimeOffset.UtcNow;
        await cache.SetAsync(key, [1, 2, 3], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(5) });

        var bucket = await Cluster.BucketAsync();
        var entry = await bucket.GetAsync(Cluster.KvKeyOf(key));
        Assert.NotNull(entry);
        Assert.NotNull(entry.Ttl);
        Assert.InRange(entry.Ttl.Value, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));

        // Read back through the grain storage: the caller's bytes, the absolute deadline, and when and with which TTL it was written.
        var stored = await Cluster.StoredAsync(key);
        Assert.True(stored.RecordExists);
        Assert.Equal(entry.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture), stored.ETag);
        Assert.Equal(new byte[] { 1, 2, 3 }, stored.State!.Value);
        Assert.InRange(stored.State.AbsoluteUnixMs, before.AddMinutes(5).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeMilliseconds());
        Assert.Equal(0, stored.State.SlidingMs);
        Assert.Equal(stored.State.AbsoluteUnixMs, stored.State.ServerDeadlineUnixMs);
        Assert.Equal(TimeSpan.FromSeconds(Math.Ceiling(stored.State.TimeToLive!.Value.TotalSeconds)), entry.Ttl);
    }

    [Fact]
    public async Task The_cache_storage_keeps_a_1_KiB_value_in_Orleans_binary_format_not_base64()
    {
        var cache = Cluster.ClientCache;
        var key = NewKey();
        var value = new byte[1024];
        Random.Shared.NextBytes(value);
        await cache.SetAsync(key, value, new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(5) });

        var bucket = await Cluster.BucketAsync();
        var entry = await bucket.GetAsync(Cluster.KvKeyOf(key));
        Assert.NotNull(entry);
        Assert.InRange(entry.Value.Length, 1024, 1024 + 64);
        Assert.True(entry.Value.Span.IndexOf(value) >= 0, "the value's bytes are not stored as they are");
        Assert.Equal(value, (await Cluster.StoredAsync(key)).State!.Value);
    }

    [Fact]
    public async Task Remove_deletes_the_entry_from_KV()
    {
        var cache = Cluster.ClientCache;
        var key = NewKey();
        await cache.SetAsync(key, "one"u8.ToArray(), NoExpiry);
        var bucket = await Cluster.BucketAsync();
        Assert.NotNull(await bucket.GetAsync(Cluster.KvKeyOf(key)));

        await cache.RemoveAsync(key);
        Assert.Null(await bucket.GetAsync(Cluster.KvKeyOf(key)));
    }

    [Fact]
    public async Task A_value_written_elsewhere_replaces_the_grains_copy()
    {
        var cache = Cluster.ClientCache;
        var key = NewKey();
        await cache.SetAsync(key, "mine"u8.ToArray(), NoExpiry);
        Assert.Equal("mine"u8.ToArray(), await cache.GetAsync(key));

        // Another writer on the same storage (e.g. another cluster on the bucket) overwrites the entry.
        var stored = await Cluster.StoredAsync(key);
        stored.State = new Internal.CacheEntryState { Value = "theirs"u8.ToArray(), TtlMs = -1 };
        await Cluster.OtherStorage().WriteStateAsync(Internal.CacheGrainStore.StateName, Cluster.Client.GetGrain<ICacheGrain>(key).GetGrainId(), stored);

        Assert.True(await Eventually.HoldsAsync(async () => (await cache.GetAsync(key)) is { } v && v.AsSpan().SequenceEqual("theirs"u8)));
    }

    [Fact]
    public async Task A_set_replaces_a_value_written_elsewhere_whether_or_not_the_grain_has_heard_of_it()
    {
        var cache = Cluster.ClientCache;
        var key = NewKey();
        await cache.SetAsync(key, "first"u8.ToArray(), NoExpiry);
        var stored = await Cluster.StoredAsync(key);
        stored.State = new Internal.CacheEntryState { Value = "theirs"u8.ToArray(), TtlMs = -1 };
        await Cluster.OtherStorage().WriteStateAsync(Internal.CacheGrainStore.StateName, Cluster.Client.GetGrain<ICacheGrain>(key).GetGrainId(), stored);

        // Right away: the grain may still hold the old ETag (its set then meets a conflict and writes again) or be gone.
        await cache.SetAsync(key, "last"u8.ToArray(), NoExpiry);
        Assert.Equal("last"u8.ToArray(), await cache.GetAsync(key));
        Assert.Equal("last"u8.ToArray(), (await Cluster.StoredAsync(key)).State!.Value);
    }

    [Fact]
    public async Task A_KV_value_that_is_not_a_cache_entry_reads_as_missing_and_the_next_set_replaces_it()
    {
        var cache = Cluster.ClientCache;
        var key = NewKey();
        var bucket = await Cluster.BucketAsync();
        await bucket.PutAsync(Cluster.KvKeyOf(key), "not a cache entry"u8.ToArray());

        Assert.Null(await cache.GetAsync(key));
        await cache.SetAsync(key, "replaced"u8.ToArray(), NoExpiry);
        Assert.Equal("replaced"u8.ToArray(), await cache.GetAsync(key));
        Assert.Equal("replaced"u8.ToArray(), (await Cluster.StoredAsync(key)).State!.Value);
    }

    [Fact]
    public async Task A_key_removed_elsewhere_in_KV_reads_as_missing()
    {
        var cache = Cluster.ClientCache;
        var key = NewKey();
        await cache.SetAsync(key, "here"u8.ToArray(), NoExpiry);
        Assert.NotNull(await cache.GetAsync(key));

        var bucket = await Cluster.BucketAsync();
        await bucket.DeleteAsync(Cluster.KvKeyOf(key));

        Assert.True(await Eventually.HoldsAsync(async () => await cache.GetAsync(key) is null));
    }

    [Fact]
    public async Task Refresh_of_a_missing_or_non_sliding_key_changes_nothing()
    {
        var cache = Cluster.ClientCache;
        var key = NewKey();
        await cache.RefreshAsync(key);
        Assert.Null(await cache.GetAsync(key));

        await cache.SetAsync(key, "x"u8.ToArray(), NoExpiry);
        var writes = Cluster.Store.StorageWrites;
        await cache.RefreshAsync(key);
        cache.Refresh(key);
        Assert.Equal(writes, Cluster.Store.StorageWrites);
        Assert.Equal("x"u8.ToArray(), await cache.GetAsync(key));
    }

    [Fact]
    public async Task The_co_hosted_silo_resolves_the_same_cache_as_IDistributedCache_and_IBufferDistributedCache()
    {
        var services = Cluster.SiloServices;
        var cache = services.GetRequiredService<IDistributedCache>();
        Assert.IsType<OrleansDistributedCache>(cache);
        Assert.Same(cache, services.GetRequiredService<IBufferDistributedCache>());

        var key = NewKey();
        await cache.SetAsync(key, "co-hosted"u8.ToArray(), NoExpiry);
        Assert.Equal("co-hosted"u8.ToArray(), await Cluster.ClientCache.GetAsync(key));
    }

    [Fact]
    public async Task A_client_app_registers_the_cache_on_its_cluster_client()
    {
        var services = new ServiceCollection();
        services.AddSingleton<Orleans.IGrainFactory>(Cluster.Client);
        Orleans.Hosting.NatsCacheGrainsExtensions.AddOrleansNatsDistributedCache(services, o => o.LeaseWait = TimeSpan.FromSeconds(5));
        await using var provider = services.BuildServiceProvider();
        var cache = provider.GetRequiredService<IDistributedCache>();

        var key = NewKey();
        await cache.SetAsync(key, "client"u8.ToArray(), NoExpiry);
        Assert.Equal("client"u8.ToArray(), await provider.GetRequiredService<IBufferDistributedCache>().GetAsync(key));
    }

    [Fact]
    public async Task A_value_NATS_refuses_fails_the_set_with_NatsGrainStorageException_and_is_not_served_from_memory()
    {
        var cache = Cluster.ClientCache;
        var key = NewKey();
        await cache.SetAsync(key, "small"u8.ToArray(), NoExpiry);

        // Beyond the server's max payload (1 MiB by default).
        var ex = await Assert.ThrowsAsync<NatsGrainStorageException>(() => cache.SetAsync(key, new byte[2 * 1024 * 1024], NoExpiry));
        Assert.Contains("WriteStateAsync failed", ex.Message);
        Assert.Contains("ProviderName=" + NatsCacheGrainOptions.DefaultStorageName, ex.Message);

        // KV still holds the previous value, and that is what readers get.
        Assert.Equal("small"u8.ToArray(), await cache.GetAsync(key));
    }
}
