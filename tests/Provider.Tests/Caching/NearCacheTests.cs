using CacheProvider.Caching;
using Microsoft.Extensions.Caching.Distributed;

namespace CacheProvider.Tests.Caching;

public sealed class NearCacheTests(ITestOutputHelper output)
{
    private static readonly DistributedCacheEntryOptions Forever = new();

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting: {what}");
            await Task.Delay(20);
        }
    }

    private static async Task<NatsDistributedCache> WarmAsync(NatsDistributedCache cache)
    {
        await cache.GetAsync("warmup");
        await EventuallyAsync(() => Task.FromResult(cache.NearCacheActive), "near cache watch live");
        return cache;
    }

    [Fact]
    public async Task Two_instances_on_separate_connections_invalidate_each_others_near_cache()
    {
        await using var h = await CacheHarness.StartAsync(output);
        using var invalidations = new CounterProbe("cache.near.invalidations");
        var a = await WarmAsync(h.Cache(o => o.NearCacheEnabled = true));
        var b = await WarmAsync(h.Cache(o => o.NearCacheEnabled = true));
        await a.SetAsync("k", [1], Forever);
        Assert.Equal([1], (await b.GetAsync("k"))!);
        Assert.Equal(1, b.NearCacheCount - 0 >= 1 ? 1 : 0);

        await a.SetAsync("k", [2], Forever);
        await EventuallyAsync(async () => (await b.GetAsync("k"))![0] == 2, "B sees A's second write");
        Assert.True(invalidations.Value >= 1);

        await a.RemoveAsync("k");
        await EventuallyAsync(async () => await b.GetAsync("k") is null, "B sees A's removal");
    }

    [Fact]
    public async Task Near_cache_is_bounded()
    {
        await using var h = await CacheHarness.StartAsync(output);
        var cache = await WarmAsync(h.Cache(o => { o.NearCacheEnabled = true; o.NearCacheMaxEntries = 20; }));
        for (var i = 0; i < 100; i++)
        {
            await cache.SetAsync($"k{i}", [(byte)i], Forever);
        }

        Assert.InRange(cache.NearCacheCount, 1, 20);
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal([(byte)i], (await cache.GetAsync($"k{i}"))!);
        }
    }

    [Fact]
    public async Task A_disconnect_flushes_the_near_cache_and_it_never_serves_a_value_older_than_an_acknowledged_write()
    {
        await using var h = await CacheHarness.StartAsync(output);
        var reader = await WarmAsync(h.Cache(o => o.NearCacheEnabled = true));
        var writer = h.Cache();
        await writer.SetAsync("k", [1], Forever);
        Assert.Equal([1], (await reader.GetAsync("k"))!);
        Assert.True(reader.NearCacheCount >= 1);

        await h.Server.KillAsync();
        await EventuallyAsync(() => Task.FromResult(!reader.NearCacheActive), "near cache off while disconnected");
        Assert.Equal(0, reader.NearCacheCount);
        await h.Server.StartAgainAsync();

        byte[]? value = null;
        await EventuallyAsync(async () =>
        {
            try
            {
                await writer.SetAsync("k", [2], Forever);
                return true;
            }
            catch (NATS.Client.Core.NatsException)
            {
                return false;
            }
        }, "write after restart");

        // Acknowledged: from now on the reader must never return [1] again.
        for (var i = 0; i < 50; i++)
        {
            try
            {
                value = await reader.GetAsync("k");
                Assert.Equal([2], value!);
            }
            catch (NATS.Client.Core.NatsException)
            {
                // Reader still reconnecting: an error is fine, a stale value is not.
            }

            await Task.Delay(50);
        }

        await EventuallyAsync(() => Task.FromResult(reader.NearCacheActive), "near cache back after the watch resumed");
    }
}
