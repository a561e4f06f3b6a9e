using System.ComponentModel.DataAnnotations;
using CacheProvider.KeyValue;

namespace CacheProvider.Grains;

/// <summary>
/// Settings of NATS clustering (<see cref="NatsMembershipTable"/> on silos, <see cref="NatsGatewayListProvider"/> on
/// clients). Keys are namespaced by Orleans' <c>ClusterOptions.ServiceId</c> and <c>ClusterId</c>, so many clusters can
/// share one bucket.
/// </summary>
public sealed class NatsClusteringOptions
{
    /// <summary>The default bucket, shared with <see cref="NatsGrainDirectoryOptions.Bucket"/>.</summary>
    public const string DefaultBucket = "orleans-cluster";

    /// <summary>
    /// KV bucket holding the membership table (and, by default, the grain directory). Created on first use with
    /// history 1, atomic batches allowed, per-key TTL and no max age; an existing bucket with a max age is refused.
    /// </summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9_-]+$", ErrorMessage = "Bucket may hold only letters, digits, '_' and '-'")]
    public string Bucket { get; set; } = DefaultBucket;

    /// <summary>Service key of a keyed NATS.Net <c>INatsConnection</c> the app registered; null = the unkeyed one.</summary>
    public string? ConnectionServiceKey { get; set; }

    /// <summary>Bucket replicas when this silo creates the bucket (1, 3 or 5; use 3 in production clusters).</summary>
    [Range(1, 5)]
    public int Replicas { get; set; } = 1;

    /// <summary>Where the bucket keeps data when this silo creates it.</summary>
    public KvStorage Storage { get; set; } = KvStorage.File;

    /// <summary>
    /// How long the tombstone of a cleaned-up (defunct) silo row stays before it removes itself. Orleans removes
    /// defunct rows hourly by default (<c>ClusterMembershipOptions.DefunctSiloCleanupPeriod</c>).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RemovedTombstoneTtl { get; set; } = TimeSpan.FromMinutes(1);
}
