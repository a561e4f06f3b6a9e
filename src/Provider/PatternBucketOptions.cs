using System.ComponentModel.DataAnnotations;
using CacheProvider.Internal;
using CacheProvider.KeyValue;

namespace CacheProvider;

/// <summary>
/// The bucket settings leases, presence and one-time tokens share: which bucket, an optional key prefix, and how a
/// bucket they create is configured (history 1, per-key TTL, expiry markers).
/// </summary>
public abstract class PatternBucketOptions
{
    private readonly string _description;

    /// <summary>Creates the settings with the feature's default bucket name.</summary>
    protected PatternBucketOptions(string defaultBucket, string description)
    {
        Bucket = defaultBucket;
        _description = description;
    }

    /// <summary>KV bucket holding the keys; created on first use (history 1, per-key TTL, expiry markers).</summary>
    [Required]
    public string Bucket { get; set; }

    /// <summary>Optional key prefix, so the keys can share a bucket with other data.</summary>
    public string? KeyPrefix { get; set; }

    /// <summary>
    /// How long expiry markers and the self-removing tombstones of releases, leaves and consumed tokens stay in the
    /// bucket: watchers that start within this window still see them. At least 1 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan LimitMarkerTtl { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Storage of the bucket when this creates it.</summary>
    public KvStorage Storage { get; set; } = KvStorage.File;

    /// <summary>Replicas of the bucket when this creates it.</summary>
    [Range(1, 5)]
    public int Replicas { get; set; } = 1;

    /// <summary>The first problem with these settings, or null when they are valid.</summary>
    public string? GetValidationError() =>
        PatternKeyCodec.ValidateBucket(Bucket)
        ?? PatternKeyCodec.ValidatePrefix(KeyPrefix)
        ?? GetOwnValidationError()
        ?? PatternTtl.Check(LimitMarkerTtl, nameof(LimitMarkerTtl))
        ?? (Replicas is >= 1 and <= 5 ? null : $"Replicas must be between 1 and 5 (was {Replicas})");

    /// <summary>Throws when the settings are invalid.</summary>
    /// <exception cref="ArgumentException">Naming the problem.</exception>
    public void Validate()
    {
        if (GetValidationError() is { } error)
        {
            throw new ArgumentException(error, "options");
        }
    }

    /// <summary>The first problem with the feature's own settings, or null.</summary>
    protected abstract string? GetOwnValidationError();

    internal KvBucketConfig ToBucketConfig() => new()
    {
        Bucket = Bucket,
        Description = _description,
        History = 1,
        LimitMarkerTtl = LimitMarkerTtl,
        Storage = Storage,
        Replicas = Replicas,
    };
}
