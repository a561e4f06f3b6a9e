namespace CacheProvider.Caching;

/// <summary>What happened to a cache key.</summary>
public enum CacheKeyChangeKind
{
    /// <summary>A value was written (a Set, or a sliding renewal).</summary>
    Written,

    /// <summary>A client removed it.</summary>
    Removed,

    /// <summary>Its TTL ran out: the server wrote an expiry marker.</summary>
    Expired,

    /// <summary>The server purged it.</summary>
    Purged,
}

/// <summary>A change of a key of this cache, made by anybody but the cache instance that reports it.</summary>
/// <param name="Key">
/// The original cache key; null only for a hashed key (longer than about 380 bytes) whose removal or expiry marker
/// carries no key and whose earlier writes this watch did not see.
/// </param>
/// <param name="KvKey">The key as stored in the bucket.</param>
/// <param name="Kind">Written, removed, expired or purged.</param>
/// <param name="Revision">The KV revision of the change.</param>
public sealed record CacheKeyChange(string? Key, string KvKey, CacheKeyChangeKind Kind, ulong Revision);
