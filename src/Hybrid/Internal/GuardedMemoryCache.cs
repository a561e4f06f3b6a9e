using Microsoft.Extensions.Caching.Memory;

namespace CacheProvider.Hybrid.Internal;

/// <summary>
/// HybridCache's view of the app's <see cref="IMemoryCache"/>: reads and removals go straight through; an insertion of
/// a string key is committed through <see cref="HybridCacheGuard.TryCommit"/>. The app's cache is not owned.
/// </summary>
internal sealed class GuardedMemoryCache(IMemoryCache inner, HybridCacheGuard guard) : IMemoryCache
{
    public bool TryGetValue(object key, out object? value) => inner.TryGetValue(key, out value);

    public ICacheEntry CreateEntry(object key) => key is string s ? new GuardedCacheEntry(s, guard) : inner.CreateEntry(key);

    public void Remove(object key) => inner.Remove(key);

    public void Dispose()
    {
        // The app's memory cache outlives HybridCache.
    }
}
