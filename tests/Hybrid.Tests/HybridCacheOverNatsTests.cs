using CacheProvider.Caching;
using CacheProvider.Connection;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace CacheProvider.Hybrid.Tests;

/// <summary><c>AddHybridCache()</c> over <c>AddNatsDistributedCache</c>, with no code of ours in between.</summary>
public sealed class HybridCacheOverNatsTests(ITestOutputHelper output)
{
    private static ServiceProvider Build(NatsServer server, string bucket) =>
        new ServiceCollection()
            .AddNatsConnection(o => o.Url = server.Url)
            .AddNatsDistributedCache(o => o.Bucket = bucket)
            .AddHybridCache().Services
            .BuildServiceProvider();

    [Fact]
    public async Task Hybrid_cache_uses_the_nats_cache_as_its_buffer_L2()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var sp = Build(server, "hy-l2");
        var hybrid = sp.GetRequiredService<HybridCache>();
        Assert.Same(sp.GetRequiredService<NatsDistributedCache>(), sp.GetRequiredService<IDistributedCache>());
        Assert.IsAssignableFrom<IBufferDistributedCache>(sp.GetRequiredService<IDistributedCache>());

        // GetOrCreateAsync returns once L1 holds the value; HybridCache writes L2 after that, in the background.
        await hybrid.GetOrCreateAsync("k", _ => ValueTask.FromResult("v1"));
        var nats = sp.GetRequiredService<NatsDistributedCache>();
        await Eventually.TrueAsync(async () => await nats.GetAsync("k") is not null, "the value reached the bucket");

        // SetAsync returns after the L2 write.
        await hybrid.SetAsync("k2", "v2");
        Assert.NotNull(await nats.GetAsync("k2"));
    }

    [Fact]
    public async Task GetOrCreate_runs_the_factory_on_a_miss_and_not_on_a_hit()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var sp = Build(server, "hy-miss");
        var hybrid = sp.GetRequiredService<HybridCache>();
        var calls = 0;
        var first = await hybrid.GetOrCreateAsync("user:1", _ => { calls++; return ValueTask.FromResult("alice"); });
        var second = await hybrid.GetOrCreateAsync("user:1", _ => { calls++; return ValueTask.FromResult("bob"); });
        Assert.Equal("alice", first);
        Assert.Equal("alice", second);
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task A_second_process_reads_the_value_from_L2_without_running_its_factory()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var a = Build(server, "hy-l2read");
        await using var b = Build(server, "hy-l2read");
        await a.GetRequiredService<HybridCache>().SetAsync("shared", 42);
        var fromB = await b.GetRequiredService<HybridCache>().GetOrCreateAsync("shared", _ => ValueTask.FromResult(-1));
        Assert.Equal(42, fromB);
    }

    [Fact]
    public async Task Remove_drops_the_value_from_L1_and_L2()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var sp = Build(server, "hy-remove");
        var hybrid = sp.GetRequiredService<HybridCache>();
        await hybrid.SetAsync("gone", "v1");
        await hybrid.RemoveAsync("gone");
        Assert.Null(await sp.GetRequiredService<NatsDistributedCache>().GetAsync("gone"));
        var after = await hybrid.GetOrCreateAsync("gone", _ => ValueTask.FromResult("fresh"));
        Assert.Equal("fresh", after);
    }

    [Fact]
    public async Task RemoveByTag_makes_tagged_entries_miss_and_leaves_others()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var sp = Build(server, "hy-tags");
        var hybrid = sp.GetRequiredService<HybridCache>();
        await hybrid.SetAsync("p:1", "one", tags: ["products"]);
        await hybrid.SetAsync("p:2", "two", tags: ["products"]);
        await hybrid.SetAsync("u:1", "user", tags: ["users"]);
        await hybrid.RemoveByTagAsync("products");
        Assert.Equal("new-one", await hybrid.GetOrCreateAsync("p:1", _ => ValueTask.FromResult("new-one")));
        Assert.Equal("new-two", await hybrid.GetOrCreateAsync("p:2", _ => ValueTask.FromResult("new-two")));
        Assert.Equal("user", await hybrid.GetOrCreateAsync("u:1", _ => ValueTask.FromResult("other")));

        // A fresh process sees the invalidation too: the tag's timestamp lives in L2.
        await using var other = Build(server, "hy-tags");
        var otherHybrid = other.GetRequiredService<HybridCache>();
        await hybrid.SetAsync("p:3", "three-before", tags: ["old"]);
        await hybrid.RemoveByTagAsync("old");
        Assert.Equal("rebuilt", await otherHybrid.GetOrCreateAsync("p:3", _ => ValueTask.FromResult("rebuilt")));
    }
}
