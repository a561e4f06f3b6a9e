using System.Text;
using CacheProvider.Caching;
using CacheProvider.Grains.Caching.Internal;
using CacheProvider.KeyValue;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace CacheProvider.Grains.Caching.Tests;

/// <summary>The grain storage under the cache grains: the TTL each entry is written with, shared storages, checks at start.</summary>
[Collection(CacheClusterCollection.Name)]
public sealed class CacheStorageTests(CacheClusterFixture fixture)
{
    private CacheCluster Cluster => fixture.Cluster;

    private static string NewKey() => "t-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task A_sliding_entry_is_stored_with_its_window_times_one_plus_the_direct_caches_renewal_fraction()
    {
        var fraction = new NatsCacheGrainOptions().SlidingRenewalFraction;
        Assert.Equal(new NatsDistributedCacheOptions().SlidingRenewalFraction, fraction);
        Assert.Equal(fraction, Cluster.SiloServices.GetRequiredService<IOptions<NatsCacheGrainOptions>>().Value.SlidingRenewalFraction);

        var key = NewKey();
        await Cluster.ClientCache.SetAsync(key, "s"u8.ToArray(), new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromSeconds(20) });
        var entry = await (await Cluster.BucketAsync()).GetAsync(Cluster.KvKeyOf(key));
        Assert.Equal(TimeSpan.FromSeconds(20 * (1 + fraction)), entry!.Ttl);
        var stored = (await Cluster.StoredAsync(key)).State!;
        Assert.Equal(20_000, stored.SlidingMs);
        Assert.Equal((long)(20_000 * (1 + fraction)), stored.TtlMs);
    }

    [Fact]
    public async Task An_entry_without_expiration_is_stored_without_a_TTL_even_when_the_storage_has_a_default_one()
    {
        await using var connection = await fixture.Server.ConnectAsync();
        await using var cluster = await CacheCluster.StartAsync(connection, configureStorage: o => o.DefaultStateTtl = TimeSpan.FromMinutes(1));
        var never = NewKey();
        var brief = NewKey();
        await cluster.ClientCache.SetAsync(never, "n"u8.ToArray(), new DistributedCacheEntryOptions());
        await cluster.ClientCache.SetAsync(brief, "b"u8.ToArray(), new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(5) });

        var bucket = await cluster.BucketAsync();
        Assert.Null((await bucket.GetAsync(cluster.KvKeyOf(never)))!.Ttl);
        Assert.InRange((await bucket.GetAsync(cluster.KvKeyOf(brief)))!.Ttl!.Value, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Cache_grains_on_an_existing_JSON_storage_write_read_back_after_reactivation_and_remove()
    {
        const string storage = "shared";
        const string bucketName = "graincache-shared";
        await using var connection = await fixture.Server.ConnectAsync();
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton(connection);
            silo.AddNatsGrainStorage(storage, o =>
            {
                o.Bucket = bucketName;
                o.Storage = KvStorage.Memory;
                o.DeleteStateOnClear = true;
            });
            silo.AddNatsCacheGrains(storage);
        });
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        try
        {
            var cache = new OrleansDistributedCache(cluster.Client);
            var key = NewKey();
            await cache.SetAsync(key, "json"u8.ToArray(), new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(5) });

            // The storage's own serializer (System.Text.Json): the value travels as base64.
            var nats = cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<NatsGrainStorage>(storage);
            var grainId = cluster.Client.GetGrain<ICacheGrain>(key).GetGrainId();
            var bucket = await new KvContext(connection).GetBucketAsync(bucketName);
            var raw = await bucket.GetAsync(nats.GetStateKey(CacheGrainStore.StateName, grainId));
            Assert.Contains("\"value\":\"anNvbg==\"", Encoding.UTF8.GetString(raw!.Value.Span));
            Assert.Equal(TimeSpan.FromMinutes(7.5), raw.Ttl);

            await cluster.DeactivateAsync(cluster.Client.GetGrain<ICacheGrain>(key));
            Assert.Equal("json"u8.ToArray(), await cache.GetAsync(key));

            await cache.RemoveAsync(key);
            Assert.Null(await cache.GetAsync(key));
            Assert.Null(await bucket.GetAsync(nats.GetStateKey(CacheGrainStore.StateName, grainId)));
        }
        finally
        {
            await cluster.StopAllSilosAsync();
        }
    }

    [Theory]
    [InlineData(true, false, "RefreshTtlOnRead")]
    [InlineData(false, false, "DeleteStateOnClear")]
    public async Task A_storage_that_renews_on_read_or_keeps_tombstones_stops_the_silo_start(bool refreshOnRead, bool deleteOnClear, string setting)
    {
        const string storage = "unsuitable";
        await using var connection = await fixture.Server.ConnectAsync();
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton(connection);
            silo.AddNatsGrainStorage(storage, o =>
            {
                o.Bucket = "graincache-unsuitable";
                o.Storage = KvStorage.Memory;
                o.DefaultStateTtl = TimeSpan.FromMinutes(1);
                o.RefreshTtlOnRead = refreshOnRead;
                o.DeleteStateOnClear = deleteOnClear;
            });
            silo.AddNatsCacheGrains(storage);
        });
        var cluster = builder.Build();
        try
        {
            var ex = await Assert.ThrowsAnyAsync<Exception>(() => cluster.DeployAsync());
            var validation = FindInner<OptionsValidationException>(ex);
            Assert.NotNull(validation);
            Assert.Contains(setting, validation.Message);
            Assert.Contains("'" + storage + "'", validation.Message);
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    private static T? FindInner<T>(Exception? ex)
        where T : Exception
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is T found)
            {
                return found;
            }

            if (ex is AggregateException aggregate && aggregate.InnerExceptions.Select(FindInner<T>).FirstOrDefault(e => e is not null) is { } inner)
            {
                return inner;
            }
        }

        return null;
    }
}
