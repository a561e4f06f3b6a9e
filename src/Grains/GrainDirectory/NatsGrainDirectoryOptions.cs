using System.ComponentModel.DataAnnotations;
using CacheProvider.KeyValue;

namespace CacheProvider.Grains;

/// <summary>
/// Settings of a <see cref="NatsGrainDirectory"/>. Entries are namespaced by Orleans' <c>ClusterOptions.ServiceId</c>
/// and <c>ClusterId</c>; they have no TTL (an entry that expired while its activation lives would allow a duplicate
/// activation); Orleans removes the entries of dead silos as it finds them.
/// </summary>
public sealed class NatsGrainDirectoryOptions
{
    /// <summary>KV bucket of the directory entries; by default the clustering bucket (<see cref="NatsClusteringOptions.DefaultBucket"/>).</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9_-]+$", ErrorMessage = "Bucket may hold only letters, digits, '_' and '-'")]
    public string Bucket { get; set; } = NatsClusteringOptions.DefaultBucket;

    /// <summary>Service key of a keyed NATS.Net <c>INatsConnection</c> the app registered; null = the unkeyed one.</summary>
    public string? ConnectionServiceKey { get; set; }

    /// <summary>Bucket replicas when this silo creates the bucket (1, 3 or 5).</summary>
    [Range(1, 5)]
    public int Replicas { get; set; } = 1;

    /// <summary>Where the bucket keeps data when this silo creates it.</summary>
    public KvStorage Storage { get; set; } = KvStorage.File;

    /// <summary>How long the tombstone an unregistration leaves stays before it removes itself.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RemovedTombstoneTtl { get; set; } = TimeSpan.FromSeconds(30);
}
