using System.ComponentModel.DataAnnotations;

namespace CacheProvider.Grains.Caching;

/// <summary>
/// Settings of <see cref="OrleansDistributedCache"/> in the app that uses the cache (an Orleans client or a silo host);
/// bindable from configuration (<c>AddOrleansNatsDistributedCache(configuration.GetSection("OrleansCache"))</c>).
/// <see cref="Bucket"/> and <see cref="ServiceId"/> locate the cache grains' entries in NATS KV, for key events
/// (<see cref="OrleansDistributedCache.WatchKeyEventsAsync"/>) and the near cache; they must match the silos' cache
/// grain storage.
/// </summary>
public sealed class OrleansDistributedCacheOptions
{
    /// <summary>
    /// How long a <see cref="OrleansDistributedCache.GetOrCreateAsync"/> caller waits per round for another caller's
    /// factory before asking again (keep it below Orleans' response timeout, 30 s by default).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan LeaseWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The KV bucket of the silos' cache grain storage (<see cref="NatsCacheGrainOptions.DefaultBucket"/> unless the silos chose another).</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9_-]+$", ErrorMessage = "Bucket names use letters, digits, _ and - only")]
    public string Bucket { get; set; } = NatsCacheGrainOptions.DefaultBucket;

    /// <summary>
    /// The service id the silos' cache grain storage writes its keys under. Left empty, the app's Orleans
    /// <c>ClusterOptions.ServiceId</c> is used — which is what the storage uses unless its own <c>ServiceId</c> is set.
    /// </summary>
    public string? ServiceId { get; set; }

    /// <summary>Key of a keyed NATS.Net <c>INatsConnection</c> to watch the bucket with; null = the app's default connection.</summary>
    public string? ConnectionKey { get; set; }

    /// <summary>
    /// Keep copies of values read in this process and serve them from memory while a watch of the bucket is live. Any
    /// change, removal or expiry of a key drops its copy; a copy never outlives the entry's deadline; everything is
    /// dropped on a watch gap or disconnect. Off by default.
    /// </summary>
    public bool NearCacheEnabled { get; set; }

    /// <summary>Most copies the near cache holds (least recently used tenth dropped when full).</summary>
    [Range(1, 10_000_000)]
    public int NearCacheMaxEntries { get; set; } = 10_000;

    /// <summary>Values larger than this are not copied.</summary>
    [Range(1, int.MaxValue)]
    public int NearCacheMaxValueBytes { get; set; } = 64 * 1024;
}
