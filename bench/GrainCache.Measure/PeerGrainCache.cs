using CacheProvider.Caching;
using Microsoft.Extensions.Caching.Distributed;
using Orleans;

namespace CacheProvider.GrainCache.Measure;

/// <summary>
/// <see cref="IDistributedCache"/> over the peer's cache grains (what ModCaches.Orleans' client-side cache does), with the
/// same expiration rules as ours (<see cref="CacheExpirationRules"/>), so all sides are called the same way.
/// </summary>
internal sealed class PeerGrainCache<TGrain>(IGrainFactory grains) : IDistributedCache
    where TGrain : IPeerCacheOps
{
    private static readonly DistributedCacheEntryOptions NoExpiration = new();

    public byte[]? Get(string key) => GetAsync(key).GetAwaiter().GetResult();

    public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => grains.GetGrain<TGrain>(key).Get().WaitAsync(token);

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => SetAsync(key, value, options).GetAwaiter().GetResult();

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        var (absolute, sliding) = CacheExpirationRules.From(options ?? NoExpiration, DateTimeOffset.UtcNow);
        return grains.GetGrain<TGrain>(key).Set(value, absolute, sliding).WaitAsync(token);
    }

    public void Refresh(string key) => RefreshAsync(key).GetAwaiter().GetResult();

    public Task RefreshAsync(string key, CancellationToken token = default) => grains.GetGrain<TGrain>(key).Refresh().WaitAsync(token);

    public void Remove(string key) => RemoveAsync(key).GetAwaiter().GetResult();

    public Task RemoveAsync(string key, CancellationToken token = default) => grains.GetGrain<TGrain>(key).Remove().WaitAsync(token);
}
