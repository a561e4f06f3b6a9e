using CacheProvider.Caching;
using CacheProvider.Connection;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace CacheProvider.Hybrid.Tests;

/// <summary>Two keyed HybridCaches ("orders", "catalog"), each over its own keyed NATS cache and bucket, on two nodes.</summary>
public sealed class KeyedHybridCacheInvalidationTests(ITestOutputHelper output)
{
    private static readonly HybridCacheEntryOptions ReadOnly = new() { Flags = HybridCacheEntryFlags.DisableUnderlyingData };

    private static ValueTask<string?> NoFactory(CancellationToken _) => ValueTask.FromResult<string?>(null);

    private static Task<HybridNode> StartAsync(NatsServer server) => HybridNode.StartAsync(services =>
    {
        services.AddNatsConnection(o => o.Url = server.Url)
            .AddKeyedNatsDistributedCache("orders", o => o.Bucket = "keyed-orders")
            .AddKeyedNatsDistributedCache("catalog", o => o.Bucket = "keyed-catalog");
        services.AddKeyedHybridCache("orders", o => o.DistributedCacheServiceKey = "orders");
        services.AddKeyedHybridCache("catalog", o => o.DistributedCacheServiceKey = "catalog");
        services.AddNatsHybridCacheInvalidation("orders").AddNatsHybridCacheInvalidation("catalog");
    });

    [Fact]
    public async Task Each_keyed_HybridCache_follows_its_own_bucket_and_leaves_the_other_alone()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var a = await StartAsync(server);
        await using var b = await StartAsync(server);
        HybridCache Orders(HybridNode n) => n.Services.GetRequiredKeyedService<HybridCache>("orders");
        HybridCache Catalog(HybridNode n) => n.Services.GetRequiredKeyedService<HybridCache>("catalog");
        NatsHybridCacheInvalidator Invalidator(HybridNode n, string key) => n.Services.GetRequiredKeyedService<NatsHybridCacheInvalidator>(key);

        Assert.Equal("orders", Invalidator(b, "orders").ServiceKey);
        Assert.NotSame(Invalidator(b, "orders"), Invalidator(b, "catalog"));
        Assert.Equal("keyed-orders", b.Services.GetRequiredKeyedService<NatsDistributedCache>("orders").Bucket);

        await Orders(a).SetAsync("order:1", "placed");
        await Catalog(a).SetAsync("item:1", "red");
        Assert.Equal("placed", await Orders(b).GetOrCreateAsync("order:1", NoFactory, ReadOnly));
        Assert.Equal("red", await Catalog(b).GetOrCreateAsync("item:1", NoFactory, ReadOnly));

        // A changes an order: B's orders L1 follows; the catalog invalidator saw nothing and its entry stays in L1.
        await Eventually.TrueAsync(() => Task.FromResult(Invalidator(b, "catalog").Applied == 1), "B applied A's first catalog Set");
        await Orders(a).SetAsync("order:1", "shipped");
        await Eventually.TrueAsync(async () => await Orders(b).GetOrCreateAsync("order:1", NoFactory, ReadOnly) == "shipped", "B's orders cache returns shipped");
        Assert.Equal(1, Invalidator(b, "catalog").Applied);
        Assert.True(b.L1.TryGetValue("item:1", out _));

        // And the other way round: a catalog change is applied by the catalog invalidator only.
        var ordersApplied = Invalidator(b, "orders").Applied;
        await Catalog(a).SetAsync("item:1", "blue");
        await Eventually.TrueAsync(async () => await Catalog(b).GetOrCreateAsync("item:1", NoFactory, ReadOnly) == "blue", "B's catalog cache returns blue");
        Assert.Equal(ordersApplied, Invalidator(b, "orders").Applied);
        Assert.Equal("shipped", await Orders(b).GetOrCreateAsync("order:1", NoFactory, ReadOnly));

        // The keyed caches' L2s are the keyed NATS caches, in their own buckets.
        Assert.NotNull(await b.Services.GetRequiredKeyedService<NatsDistributedCache>("orders").GetAsync("order:1"));
        Assert.Null(await b.Services.GetRequiredKeyedService<NatsDistributedCache>("catalog").GetAsync("order:1"));
    }
}
