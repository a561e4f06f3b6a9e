using CacheProvider.Caching;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CacheProvider.Hybrid.Tests;

/// <summary>Two nodes (two containers, two connections) on one real nats-server.</summary>
public sealed class NatsHybridCacheInvalidatorTests(ITestOutputHelper output)
{
    private static ValueTask<string> Factory(string value) => ValueTask.FromResult(value);

    [Fact]
    public async Task Without_invalidation_a_node_keeps_serving_its_stale_L1_after_another_node_sets_the_key()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var a = await HybridNode.StartAsync(server, "inv-none", invalidation: false);
        await using var b = await HybridNode.StartAsync(server, "inv-none", invalidation: false);
        await a.Hybrid.SetAsync("k", "v1");
        Assert.Equal("v1", await b.Hybrid.GetOrCreateAsync("k", _ => Factory("factory")));

        await a.Hybrid.SetAsync("k", "v2");
        Assert.NotNull(await b.L2.GetAsync("k")); // L2 has v2 ...
        Assert.Equal("v1", await b.Hybrid.GetOrCreateAsync("k", _ => Factory("factory"))); // ... B's L1 does not know
    }

    [Fact]
    public async Task Set_on_one_node_makes_the_other_node_return_the_new_value_read_from_L2()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var a = await HybridNode.StartAsync(server, "inv-set");
        await using var b = await HybridNode.StartAsync(server, "inv-set");
        await a.Hybrid.SetAsync("k", "v1");
        Assert.Equal("v1", await b.Hybrid.GetOrCreateAsync("k", _ => Factory("factory")));

        await a.Hybrid.SetAsync("k", "v2");
        await Eventually.TrueAsync(async () => await b.Hybrid.GetOrCreateAsync("k", _ => Factory("factory")) == "v2", "B returns v2");
        Assert.NotNull(await a.L2.GetAsync("k")); // the fresh value stayed in L2: B got it from there, not from its factory
    }

    [Fact]
    public async Task Remove_on_one_node_makes_the_other_node_miss()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var a = await HybridNode.StartAsync(server, "inv-remove");
        await using var b = await HybridNode.StartAsync(server, "inv-remove");
        await a.Hybrid.SetAsync("k", "v1");
        Assert.Equal("v1", await b.Hybrid.GetOrCreateAsync("k", _ => Factory("factory")));

        await a.Hybrid.RemoveAsync("k");
        await Eventually.TrueAsync(() => Task.FromResult(!b.L1.TryGetValue("k", out _)), "B's L1 drops k");
        Assert.Equal("rebuilt", await b.Hybrid.GetOrCreateAsync("k", _ => Factory("rebuilt")));
    }

    [Fact]
    public async Task Expiry_drops_the_key_from_L1_on_every_node_including_the_writer()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var a = await HybridNode.StartAsync(server, "inv-expiry");
        await using var b = await HybridNode.StartAsync(server, "inv-expiry");
        var shortLived = new HybridCacheEntryOptions { Expiration = TimeSpan.FromSeconds(2) };
        await a.Hybrid.SetAsync("k", "v1", shortLived);
        Assert.Equal("v1", await b.Hybrid.GetOrCreateAsync("k", _ => Factory("factory"), shortLived));

        // The server's expiry marker is a change nobody wrote: both nodes evict (A's own Set was not counted).
        await Eventually.TrueAsync(() => Task.FromResult(a.Invalidator.Applied >= 1 && b.Invalidator.Applied >= 1), "both nodes saw the expiry");
        Assert.False(a.L1.TryGetValue("k", out _));
        Assert.False(b.L1.TryGetValue("k", out _));
        Assert.Equal("rebuilt", await b.Hybrid.GetOrCreateAsync("k", _ => Factory("rebuilt")));
    }

    [Fact]
    public async Task A_node_s_own_Set_leaves_its_fresh_L1_entry_alone()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var a = await HybridNode.StartAsync(server, "inv-own");
        await using var b = await HybridNode.StartAsync(server, "inv-own");
        await a.Hybrid.SetAsync("mine", "fresh");
        Assert.True(a.L1.TryGetValue("mine", out _));

        // Barrier: a change by B made after A's Set reaches A after A's own event (one ordered watch).
        await a.Hybrid.SetAsync("barrier", "a");
        await b.Hybrid.SetAsync("barrier", "b");
        // Applied (counted) once the eviction is done: wait for the count, not for the L1 entry to go.
        await Eventually.TrueAsync(() => Task.FromResult(a.Invalidator.Applied >= 1), "A applied B's Set of barrier");
        Assert.False(a.L1.TryGetValue("barrier", out _));
        Assert.True(a.L1.TryGetValue("mine", out _));
        Assert.Equal(1, a.Invalidator.Applied);
        Assert.Equal("fresh", await a.Hybrid.GetOrCreateAsync("mine", _ => Factory("factory")));
    }

    [Fact]
    public async Task RemoveByTag_on_one_node_invalidates_tagged_entries_on_the_other_node_without_echo()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var a = await HybridNode.StartAsync(server, "inv-tags");
        await using var b = await HybridNode.StartAsync(server, "inv-tags");
        await a.Hybrid.SetAsync("p:1", "one", tags: ["products"]);
        await a.Hybrid.SetAsync("u:1", "user", tags: ["users"]);
        Assert.Equal("one", await b.Hybrid.GetOrCreateAsync("p:1", _ => Factory("factory"), tags: ["products"]));
        Assert.Equal("user", await b.Hybrid.GetOrCreateAsync("u:1", _ => Factory("factory"), tags: ["users"]));

        await a.Hybrid.RemoveByTagAsync("products");
        await Eventually.TrueAsync(() => Task.FromResult(b.Invalidator.TagInvalidations == 1), "B replayed the tag invalidation");
        Assert.Equal("rebuilt", await b.Hybrid.GetOrCreateAsync("p:1", _ => Factory("rebuilt"), tags: ["products"]));
        Assert.Equal("user", await b.Hybrid.GetOrCreateAsync("u:1", _ => Factory("factory"), tags: ["users"]));

        // B's replay wrote nothing back: A, after seeing a later change of B, replayed no tag invalidation.
        await a.Hybrid.SetAsync("barrier", "a");
        await b.Hybrid.SetAsync("barrier", "b");
        await Eventually.TrueAsync(() => Task.FromResult(!a.L1.TryGetValue("barrier", out _)), "A saw B's Set of barrier");
        Assert.Equal(0, a.Invalidator.TagInvalidations);
    }

    [Fact]
    public async Task Removal_of_a_hashed_key_this_node_never_saw_written_flushes_only_HybridCache_entries_from_L1()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var a = await HybridNode.StartAsync(server, "inv-flush");
        var longKey = new string('k', 600); // stored under its hash; the removal marker does not carry it
        await a.L2.SetAsync(longKey, [1], new DistributedCacheEntryOptions());

        await using var b = await HybridNode.StartAsync(server, "inv-flush");
        await a.Hybrid.SetAsync("h", "v1");
        Assert.Equal("v1", await b.Hybrid.GetOrCreateAsync("h", _ => Factory("factory")));
        b.L1.Set("app-entry", "not HybridCache's");

        await a.L2.RemoveAsync(longKey);
        await Eventually.TrueAsync(() => Task.FromResult(b.Invalidator.Flushes == 1), "B flushed its HybridCache L1");
        Assert.False(b.L1.TryGetValue("h", out _));
        Assert.Equal("not HybridCache's", b.L1.Get<string>("app-entry"));
    }

    [Fact]
    public async Task Starting_without_the_nats_cache_as_HybridCache_L2_fails_naming_the_problem()
    {
        await using var sp = new ServiceCollection()
            .AddDistributedMemoryCache()
            .AddHybridCache().Services
            .AddNatsHybridCacheInvalidation()
            .BuildServiceProvider();
        var hosted = sp.GetServices<IHostedService>().OfType<NatsHybridCacheInvalidator>().Single();
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => hosted.StartAsync(CancellationToken.None));
        Assert.Contains("AddNatsDistributedCache", ex.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(MemoryDistributedCache), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registering_twice_starts_one_watch()
    {
        var services = new ServiceCollection().AddHybridCache().Services.AddNatsHybridCacheInvalidation().AddNatsHybridCacheInvalidation();
        Assert.Single(services, d => d.ServiceType == typeof(IHostedService));
    }

    [Fact]
    public void Registering_before_AddHybridCache_fails_naming_the_order()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddNatsHybridCacheInvalidation());
        Assert.Contains("AddHybridCache()", ex.Message, StringComparison.Ordinal);
        var keyed = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddHybridCache().Services.AddNatsHybridCacheInvalidation("orders"));
        Assert.Contains("AddKeyedHybridCache(orders)", keyed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task After_a_server_restart_L1_is_flushed_and_other_nodes_changes_keep_arriving()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var a = await HybridNode.StartAsync(server, "inv-restart");
        await using var b = await HybridNode.StartAsync(server, "inv-restart");
        await a.Hybrid.SetAsync("h", "v1");
        Assert.Equal("v1", await b.Hybrid.GetOrCreateAsync("h", _ => Factory("factory")));

        var flushesBefore = b.Invalidator.Flushes;
        await server.RestartAsync();
        await Eventually.TrueAsync(() => Task.FromResult(b.Invalidator.Flushes > flushesBefore), "B flushed its L1 after the gap");
        Assert.False(b.L1.TryGetValue("h", out _));

        // B holds v1 in L1 again; A's Set made after the restart must still reach it.
        Assert.Equal("v1", await b.Hybrid.GetOrCreateAsync("h", _ => Factory("factory")));
        await Eventually.TrueAsync(async () =>
        {
            try
            {
                await a.Hybrid.SetAsync("h", "v2");
                return true;
            }
            catch (Exception ex) when (ex is NATS.Client.Core.NatsException or TimeoutException or OperationCanceledException)
            {
                return false; // A still reconnecting
            }
        }, "A's Set after the restart succeeds");
        await Eventually.TrueAsync(async () => await b.Hybrid.GetOrCreateAsync("h", _ => Factory("factory")) == "v2", "B returns v2");
    }

    [Fact]
    public async Task RemoveByTag_of_the_wildcard_on_one_node_invalidates_every_entry_on_the_other()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var a = await HybridNode.StartAsync(server, "inv-wildcard");
        await using var b = await HybridNode.StartAsync(server, "inv-wildcard");
        await a.Hybrid.SetAsync("x", "one");
        await a.Hybrid.SetAsync("y", "two", tags: ["t"]);
        Assert.Equal("one", await b.Hybrid.GetOrCreateAsync("x", _ => Factory("factory")));
        Assert.Equal("two", await b.Hybrid.GetOrCreateAsync("y", _ => Factory("factory"), tags: ["t"]));

        await a.Hybrid.RemoveByTagAsync("*");
        await Eventually.TrueAsync(() => Task.FromResult(b.Invalidator.TagInvalidations == 1), "B replayed the wildcard");
        Assert.Equal("rebuilt-x", await b.Hybrid.GetOrCreateAsync("x", _ => Factory("rebuilt-x")));
        Assert.Equal("rebuilt-y", await b.Hybrid.GetOrCreateAsync("y", _ => Factory("rebuilt-y"), tags: ["t"]));
    }
}
