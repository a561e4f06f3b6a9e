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
    /// Name of the NATS grain storage (and its state watcher) whose bucket and key scheme the cache entries use
    /// (key <c>{serviceId}.cache.{grainType}.{cacheKey}</c>).
    /// </summary>
    [Required]
    public string StorageName { get; set; } = DefaultStorageName;

    /// <summary>
    /// A sliding entry is stored with TTL = window × (1 + fraction) and rewritten only when less than one window
    /// remains: at most once per this fraction of its window (0.01–1, like the direct cache's SlidingRenewalFraction).
    /// </summary>
    [Range(0.01, 1.0)]
    public double SlidingRenewalFraction { get; set; } = 0.25;
}
