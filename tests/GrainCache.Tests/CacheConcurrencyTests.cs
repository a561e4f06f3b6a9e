using Microsoft.Extensions.Caching.Distributed;

namespace CacheProvider.Grains.Caching.Tests;

/// <summary>One grain per key serialises storage reads and factory runs.</summary>
[Collection(CacheClusterCollection.Name)]
public sealed class CacheConcurrencyTests(CacheClusterFixture fixture)
{
    private CacheCluster Cluster => fixture.Cluster;

    private static string NewKey() => "c-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Sixty_four_concurrent_gets_of_one_missing_key_read_storage_once()
    {
        var cache = Cluster.ClientCache;
        var key = NewKey();
        var readsBefore = Cluster.Store.StorageReads;

        var results = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(() => cache.GetAsync(key))));

        Assert.All(results, Assert.Null);
        Assert.Equal(1, Cluster.Store.StorageReads - readsBefore);
    }

    [Fact]
    public async Task GetOrCreate_runs_the_factory_once_for_sixty_four_concurrent_callers_and_all_get_its_value()
    {
        var cache = Cluster.ClientCache;
        var key = NewKey();
        var calls = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async Task<byte[]> Factory(CancellationToken _)
        {
            Interlocked.Increment(ref calls);
            started.TrySetResult();
            await release.Task;
            return "made once"u8.ToArray();
        }

        var callers = Enumerable.Range(0, 64).Select(_ => Task.Run(() => cache.GetOrCreateAsync(key, Factory, new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(1) }))).ToArray();
        await started.Task.WaitAsync(Eventually.Patience);
        release.SetResult();
        var results = await Task.WhenAll(callers);

        Assert.Equal(1, calls);
        Assert.All(results, r => Assert.Equal("made once"u8.ToArray(), r));
        Assert.Equal("made once"u8.ToArray(), await cache.GetAsync(key));
    }

    [Fact]
    public async Task A_set_while_a_factory_runs_releases_the_waiting_callers_with_the_set_value()
    {
        var cache = Cluster.ClientCache;
        var key = NewKey();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;

        async Task<byte[]> Slow(CancellationToken _)
        {
            Interlocked.Increment(ref calls);
            started.TrySetResult();
            await release.Task;
            return "factory"u8.ToArray();
        }

        var holder = cache.GetOrCreateAsync(key, Slow);
        await started.Task.WaitAsync(Eventually.Patience);
        var waiters = Enumerable.Range(0, 4).Select(_ => cache.GetOrCreateAsync(key, Slow)).ToArray();
        await cache.SetAsync(key, "direct"u8.ToArray(), new DistributedCacheEntryOptions());

        // The factory is still blocked: the waiters finish on the set value.
        var waited = await Task.WhenAll(waiters).WaitAsync(Eventually.Patience);
        Assert.All(waited, v => Assert.Equal("direct"u8.ToArray(), v));
        Assert.False(holder.IsCompleted);

        release.SetResult();
        Assert.Equal("factory"u8.ToArray(), await holder);
        Assert.Equal(1, calls);
        Assert.Equal("factory"u8.ToArray(), await cache.GetAsync(key));
    }

    [Fact]
    public async Task GetOrCreate_returns_the_cached_value_without_running_the_factory()
    {
        var cache = Cluster.ClientCache;
        var key = NewKey();
        await cache.SetAsync(key, "cached"u8.ToArray(), new DistributedCacheEntryOptions());

        var value = await cache.GetOrCreateAsync(key, _ => throw new InvalidOperationException("factory ran for a cached key"));
        Assert.Equal("cached"u8.ToArray(), value);
    }

    [Fact]
    public async Task A_co_hosted_GetOrCreate_caller_owns_the_array_it_gets_created_or_cached()
    {
        var cache = (OrleansDistributedCache)Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<IDistributedCache>(Cluster.SiloServices);
        var key = NewKey();

        // In-silo grain calls pass references unless the grain interface has Orleans copy them.
        var created = await cache.GetOrCreateAsync(key, _ => Task.FromResult(new byte[] { 1, 2 }));
        created[0] = 9;
        var cached = await cache.GetOrCreateAsync(key, _ => throw new InvalidOperationException("factory ran for a cached key"));
        Assert.Equal([1, 2], cached);
        cached[1] = 9;
        Assert.Equal([1, 2], await cache.GetAsync(key));
    }

    [Fact]
    public async Task A_failing_factory_reaches_its_caller_and_the_next_caller_creates_the_value()
    {
        var cache = Cluster.ClientCache;
        var key = NewKey();
        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.GetOrCreateAsync(key, _ => throw new InvalidOperationException("boom")));

        var value = await cache.GetOrCreateAsync(key, _ => Task.FromResult("second"u8.ToArray()));
        Assert.Equal("second"u8.ToArray(), value);
    }

    [Fact]
    public async Task GetOrCreate_runs_the_factory_once_for_callers_on_two_silos_and_a_client()
    {
        await using var connection = await fixture.Server.ConnectAsync();
        await using var cluster = await CacheCluster.StartAsync(connection, silos: 2);
        var caches = cluster.Cluster.Silos.Select(s => Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<IDistributedCache>(s.ServiceProvider))
            .Cast<OrleansDistributedCache>()
            .Append(cluster.ClientCache)
            .ToArray();
        Assert.Equal(3, caches.Length);
        var key = NewKey();
        var calls = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async Task<byte[]> Factory(CancellationToken _)
        {
            Interlocked.Increment(ref calls);
            started.TrySetResult();
            await release.Task;
            return "cluster-wide"u8.ToArray();
        }

        var callers = Enumerable.Range(0, 48).Select(i => Task.Run(() => caches[i % caches.Length].GetOrCreateAsync(key, Factory))).ToArray();
        await started.Task.WaitAsync(Eventually.Patience);
        release.SetResult();
        var results = await Task.WhenAll(callers);

        Assert.Equal(1, calls);
        Assert.All(results, r => Assert.Equal("cluster-wide"u8.ToArray(), r));
    }
}
