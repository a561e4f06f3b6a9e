using System.ComponentModel.DataAnnotations;

namespace CacheProvider.Grains.Caching;

/// <summary>Silo-side settings of the cache grains.</summary>
public sealed class NatsCacheGrainOptions
{
    /// <summary>The storage name <c>AddNatsCacheGrains</c> registers when it adds its own storage.</summary>
    public const string DefaultStorageName = "NatsCache";

    /// <summary>The default bucket of that storage.</summary>
    public const string DefaultBucket = "orleans-cache";

    /// <summary>
    /// Name of the NATS grain storage (and its state watcher) the entries are persisted through, as state
    /// <c>cache</c> (KV key <c>{serviceId}.cache.{grainType}.{cacheKey}</c>). That storage must delete on clear
    /// (<see cref="NatsGrainStorageOptions.DeleteStateOnClear"/>) and must not renew on read
    /// (<see cref="NatsGrainStorageOptions.RefreshTtlOnRead"/>): the grain keeps each entry's TTL itself.
    /// </summary>
    [Required]
    public string StorageName { get; set; } = DefaultStorageName;

    /// <summary>
    /// Sliding renewal slack f, as the direct cache's <c>NatsDistributedCacheOptions.SlidingRenewalFraction</c> (same
    /// default, same range): a sliding entry is stored with TTL = window × (1 + f) and rewritten on a read only when
    /// less than one window remains, so renewals happen at most once per f × window per key.
    /// </summary>
    [Range(0.05, 10.0)]
    public double SlidingRenewalFraction { get; set; } = 0.5;
}
