using System.ComponentModel.DataAnnotations;
using CacheProvider.Internal;
using CacheProvider.Nats.KeyValue;

namespace CacheProvider.Leases;

/// <summary>Bindable settings of <see cref="LeaseManager"/> (e.g. from the <c>Nats:Leases</c> configuration section).</summary>
public sealed class LeaseOptions
{
    /// <summary>KV bucket holding the locks; created on first use (history 1, per-key TTL, expiry markers).</summary>
    [Required]
    public string Bucket { get; set; } = "leases";

    /// <summary>Optional key prefix, so locks can share a bucket with other data (e.g. <c>locks</c>).</summary>
    public string? KeyPrefix { get; set; }

    /// <summary>
    /// Lease time-to-live when an acquire call gives none: how long a lock outlives a holder that died. Whole
    /// seconds (rounded up), at least 1 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan DefaultTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Renew after this fraction of the TTL has passed (0.1–0.8; default 1/3, so two renewals can fail before the
    /// lease runs out).
    /// </summary>
    [Range(0.1, 0.8)]
    public double RenewalFraction { get; set; } = 1.0 / 3;

    /// <summary>
    /// How long the expiry marker (and the self-removing tombstone a release leaves) stays in the bucket: waiters
    /// that start watching within this window still see it. At least 1 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan LimitMarkerTtl { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Holder identity stored with each lease (diagnostics only); default <c>machine/pid</c>.</summary>
    [MaxLength(256)]
    public string? Owner { get; set; }

    /// <summary>Storage of the bucket when this creates it.</summary>
    public KvStorage Storage { get; set; } = KvStorage.File;

    /// <summary>Replicas of the bucket when this creates it (1, 3 or 5 in a cluster).</summary>
    [Range(1, 5)]
    public int Replicas { get; set; } = 1;

    /// <summary>The first problem with these settings, or null when they are valid.</summary>
    public string? GetValidationError() =>
        PatternKeyCodec.ValidateBucket(Bucket)
        ?? PatternKeyCodec.ValidatePrefix(KeyPrefix)
        ?? PatternTtl.Check(DefaultTtl, nameof(DefaultTtl))
        ?? PatternTtl.Check(LimitMarkerTtl, nameof(LimitMarkerTtl))
        ?? (RenewalFraction is >= 0.1 and <= 0.8 ? null : $"RenewalFraction must be between 0.1 and 0.8 (was {RenewalFraction})")
        ?? (Replicas is >= 1 and <= 5 ? null : $"Replicas must be between 1 and 5 (was {Replicas})")
        ?? (Owner is { Length: > 256 } ? "Owner must be at most 256 characters" : null);

    /// <summary>Throws when the settings are invalid.</summary>
    /// <exception cref="ArgumentException">Naming the problem.</exception>
    public void Validate()
    {
        if (GetValidationError() is { } error)
        {
            throw new ArgumentException(error, "options");
        }
    }

    internal KvBucketConfig ToBucketConfig() => new()
    {
        Bucket = Bucket,
        Description = "Leased locks (CacheProvider.Leases)",
        History = 1,
        LimitMarkerTtl = LimitMarkerTtl,
        Storage = Storage,
        Replicas = Replicas,
    };
}
