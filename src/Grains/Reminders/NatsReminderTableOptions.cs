using System.ComponentModel.DataAnnotations;
using CacheProvider.KeyValue;

namespace CacheProvider.Grains;

/// <summary>Settings of the <see cref="NatsReminderTable"/>.</summary>
public sealed class NatsReminderTableOptions
{
    /// <summary>The first key token. Left empty, the silo's Orleans <c>ClusterOptions.ServiceId</c> is used.</summary>
    public string ServiceId { get; set; } = string.Empty;

    /// <summary>KV bucket (history 1).</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9_-]+$")]
    public string Bucket { get; set; } = "orleans-reminders";

    /// <summary>Where the bucket keeps data.</summary>
    public KvStorage Storage { get; set; } = KvStorage.File;

    /// <summary>Bucket replicas (1, 3 or 5).</summary>
    [Range(1, 5)]
    public int Replicas { get; set; } = 1;

    /// <summary>
    /// Hex digits of the grain hash written as separate key tokens (1–6). Depth d splits the ring into 16^d leaves; a
    /// range read reads whole leaves, so deeper = less overshoot at the range ends but more filter subjects.
    /// 3 (4,096 leaves) suits up to a few hundred thousand reminders.
    /// </summary>
    [Range(1, 6)]
    public int HashPrefixDepth { get; set; } = 3;

    /// <summary>Most filter subjects one range read may use; a range needing more is read at a coarser depth.</summary>
    [Range(2, 256)]
    public int MaxFilterSubjects { get; set; } = 64;

    /// <summary>TTL of the self-expiring tombstone a removal leaves (no permanent delete-map entry).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RemovedTombstoneTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Service key of a keyed NATS.Net <c>INatsConnection</c>; null = the unkeyed one.</summary>
    public string? ConnectionServiceKey { get; set; }
}
