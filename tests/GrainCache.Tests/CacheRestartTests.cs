using Microsoft.Extensions.Caching.Distributed;
using Orleans;

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

    [Fact]
    public async Task When_the_silo_holding_an_entry_stops_the_entry_reactivates_on_another_silo_from_KV()
    {
        await using var connection = await fixture.Server.ConnectAsync();
        await using var cluster = await CacheCluster.StartAsync(connection, silos: 2);
        var cache = cluster.ClientCache;
        var key = "s-" + Guid.NewGuid().ToString("N");
        await cache.SetAsync(key, "kept"u8.ToArray(), new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(5) });

        // Put the activation on the secondary silo, then stop that silo (its memory is gone).
        var grain = cluster.Client.GetGrain<ICacheGrain>(key);
        var secondary = cluster.Cluster.Silos[1];
        if (await HostOfAsync(cluster, key) != secondary.SiloAddress)
        {
            // (Migrating to the silo it is already on never completes.)
            await cluster.Cluster.MigrateAsync(grain, secondary.SiloAddress).WaitAsync(Eventually.Patience);
        }

        Assert.True(await Eventually.HoldsAsync(async () => await HostOfAsync(cluster, key) == secondary.SiloAddress), "the activation did not move to the secondary silo");
        Assert.Equal("kept"u8.ToArray(), await cache.GetAsync(key));
        await cluster.Cluster.StopSiloAsync(secondary).WaitAsync(Eventually.Patience);

        var primaryReads = cluster.Store.StorageReads;
        Assert.True(await Eventually.HoldsAsync(async () =>
        {
            try
            {
                return (await cache.GetAsync(key).WaitAsync(TimeSpan.FromSeconds(10))) is { } v && v.AsSpan().SequenceEqual("kept"u8);
            }
            catch (Exception ex) when (ex is Orleans.Runtime.SiloUnavailableException or TimeoutException)
            {
                return false; // the directory still points at the stopped silo
            }
        }), "the entry did not come back on the surviving silo");
        Assert.True(cluster.Store.StorageReads > primaryReads, "the surviving silo served the entry without reading KV");
        Assert.Equal(cluster.Cluster.Silos[0].SiloAddress, await HostOfAsync(cluster, key));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    public async Task When_the_silo_holding_an_entry_is_killed_the_entry_reactivates_on_the_remaining_silo_from_KV(int killed)
    {
        await using var connection = await fixture.Server.ConnectAsync();
        await using var cluster = await CacheCluster.StartAsync(connection, silos: 2);
        var cache = cluster.ClientCache;
        var key = "x-" + Guid.NewGuid().ToString("N");
        var deadline = DateTimeOffset.UtcNow.AddMinutes(5);
        await cache.SetAsync(key, "survives a kill"u8.ToArray(), new DistributedCacheEntryOptions { AbsoluteExpiration = deadline });

        var grain = cluster.Client.GetGrain<ICacheGrain>(key);
        var victim = cluster.Cluster.Silos[killed];
        if (await HostOfAsync(cluster, key) != victim.SiloAddress)
        {
            await cluster.Cluster.MigrateAsync(grain, victim.SiloAddress).WaitAsync(Eventually.Patience);
        }

        Assert.True(await Eventually.HoldsAsync(async () => await HostOfAsync(cluster, key) == victim.SiloAddress), "the activation did not move to the silo to kill");
        Assert.Equal("survives a kill"u8.ToArray(), await cache.GetAsync(key));

        // No graceful shutdown: the activation never deactivates, the silo never leaves the membership table.
        await cluster.Cluster.KillSiloAsync(victim).WaitAsync(Eventually.Patience);

        var survivorReads = cluster.Store.StorageReads;
        Assert.True(await Eventually.HoldsAsync(async () =>
        {
            try
            {
                return (await cache.GetAsync(key).WaitAsync(TimeSpan.FromSeconds(10))) is { } v && v.AsSpan().SequenceEqual("survives a kill"u8);
            }
            catch (Exception ex) when (ex is Orleans.Runtime.SiloUnavailableException or Orleans.Runtime.OrleansMessageRejectionException or TimeoutException)
            {
                return false; // until the survivor declares the killed silo dead, calls may still be routed to it
            }
        }), "the entry did not come back on the remaining silo");
        Assert.True(cluster.Store.StorageReads > survivorReads, "the remaining silo served the entry without reading KV");
        Assert.Equal(Assert.Single(cluster.Cluster.Silos).SiloAddress, await HostOfAsync(cluster, key));

        // It came back with its remaining TTL.
        var stored = await cluster.StoredAsync(key);
        Assert.Equal(deadline.ToUnixTimeMilliseconds(), stored.State!.AbsoluteUnixMs);
    }

    [Fact]
    public async Task Calls_in_flight_on_a_killed_silo_end_at_the_response_timeout_and_the_lease_holders_value_lands_on_the_survivor()
    {
        await using var connection = await fixture.Server.ConnectAsync();
        await using var cluster = await CacheCluster.StartAsync(connection, silos: 2, clientResponseTimeout: TimeSpan.FromSeconds(5));
        var cache = cluster.ClientCache;
        var key = "l-" + Guid.NewGuid().ToString("N");
        var grain = cluster.Client.GetGrain<ICacheGrain>(key);
        await grain.Get();
        var victim = cluster.Cluster.Silos[1];
        if (await HostOfAsync(cluster, key) != victim.SiloAddress)
        {
            await cluster.Cluster.MigrateAsync(grain, victim.SiloAddress).WaitAsync(Eventually.Patience);
        }

        Assert.True(await Eventually.HoldsAsync(async () => await HostOfAsync(cluster, key) == victim.SiloAddress), "the activation did not move to the silo to kill");

        // A GetOrCreate holds the lease; waiters wait inside the activation on the silo about to die.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holder = cache.GetOrCreateAsync(key, async _ =>
        {
            started.TrySetResult();
            await release.Task;
            return "holder"u8.ToArray();
        });
        await started.Task.WaitAsync(Eventually.Patience);
        var waiters = Enumerable.Range(0, 4).Select(_ => cache.GetOrCreateAsync(key, _ => Task.FromResult("waiter"u8.ToArray()))).ToArray();
        await cluster.Cluster.KillSiloAsync(victim).WaitAsync(Eventually.Patience);

        // Nobody answers for the dead activation: each waiter ends (a value, or the client's response timeout), none hangs.
        foreach (var waiter in waiters)
        {
            try
            {
                await waiter.WaitAsync(Eventually.Patience);
            }
            catch (Exception ex) when (ex is TimeoutException or Orleans.Runtime.SiloUnavailableException or Orleans.Runtime.OrleansMessageRejectionException)
            {
            }
        }

        // The holder's factory finishes after the kill: its value is stored through an activation on the survivor.
        release.SetResult();
        Assert.Equal("holder"u8.ToArray(), await holder.WaitAsync(Eventually.Patience));
        Assert.Equal("holder"u8.ToArray(), await cache.GetAsync(key));
        Assert.Equal("holder"u8.ToArray(), (await cluster.StoredAsync(key)).State!.Value);
    }

    private static async Task<Orleans.Runtime.SiloAddress?> HostOfAsync(CacheCluster cluster, string key)
    {
        var id = cluster.Client.GetGrain<ICacheGrain>(key).GetGrainId();
        var stats = await cluster.Client.GetGrain<Orleans.Runtime.IManagementGrain>(0).GetDetailedGrainStatistics();
        return stats.FirstOrDefault(s => s.GrainId == id)?.SiloAddress;
    }
}
