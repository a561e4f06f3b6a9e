using CacheProvider.KeyValue;
using Microsoft.Extensions.Caching.Distributed;

namespace CacheProvider.Tests.Caching;

public sealed class SlidingExpirationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Sliding_keeps_a_busy_key_alive_lets_an_idle_one_go_and_renews_rarely()
    {
        await using var h = await CacheHarness.StartAsync(output);
        using var renewals = new CounterProbe("cache.renewals", thisFlowOnly: true);
        var cache = h.Cache(o => o.SlidingRenewalFraction = 0.5);
        var sliding = new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromSeconds(2) };
        await cache.SetAsync("busy", [1], sliding);
        await cache.SetAsync("idle", [2], sliding);

        // Read "busy" every 100 ms for 5 s: 50 reads, far past its 2 s window.
        for (var i = 0; i < 50; i++)
        {
            Assert.NotNull(await cache.GetAsync("busy"));
            await Task.Delay(100);
        }

        Assert.Null(await cache.GetAsync("idle"));
        Assert.NotNull(await cache.GetAsync("busy"));

        // Stored TTL is 3 s (window × 1.5); a renewal is due only when < 2 s remain: about one per second.
        output.WriteLine($"renewals: {renewals.Value}");
        Assert.InRange(renewals.Value, 2, 8);
    }

    [Fact]
    public async Task Refresh_right_after_a_get_costs_no_round_trip()
    {
        await using var h = await CacheHarness.StartAsync(output);
        var cache = h.Cache();
        await cache.SetAsync("s", [1], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(1) });
        Assert.NotNull(await cache.GetAsync("s"));

        // With the server frozen, anything that needed the network would time out.
        h.Server.Pause();
        try
        {
            var refresh = cache.RefreshAsync("s");
            Assert.True(await Task.WhenAny(refresh, Task.Delay(TimeSpan.FromSeconds(2))) == refresh, "Refresh went to the server");
            await refresh;
        }
        finally
        {
            h.Server.Resume();
        }
    }

    [Fact]
    public async Task Refresh_renews_a_sliding_entry_that_needs_it()
    {
        await using var h = await CacheHarness.StartAsync(output);
        var writer = h.Cache();
        var other = h.Cache(); // a different instance has no recent-read record
        await writer.SetAsync("r", [1], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromSeconds(2) });
        var kv = await new KvContext(h.Connect()).GetBucketAsync("cache");
        var before = (await kv.GetLastAsync("r"))!.Revision;
        await Task.Delay(1200); // less than one window (2 s) is left of the stored 3 s
        await other.RefreshAsync("r");
        var after = await kv.GetLastAsync("r");
        Assert.True(after!.Revision > before, "Refresh did not rewrite the entry");
        Assert.Equal([1], after.Value.ToArray());
    }

    [Fact]
    public async Task A_lost_renewal_race_is_still_a_hit()
    {
        await using var h = await CacheHarness.StartAsync(output);
        var caches = Enumerable.Range(0, 8).Select(_ => h.Cache()).ToArray();
        await caches[0].SetAsync("race", [9], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromSeconds(2) });
        await Task.Delay(1200);
        var reads = await Task.WhenAll(caches.Select(c => c.GetAsync("race")));
        Assert.All(reads, r => Assert.Equal([9], r!));
    }
}
