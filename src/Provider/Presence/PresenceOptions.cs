using System.ComponentModel.DataAnnotations;
using CacheProvider.Internal;
using CacheProvider.Nats.KeyValue;

namespace CacheProvider.Presence;

/// <summary>Bindable settings of <see cref="PresenceTracker"/> (e.g. from the <c>Nats:Presence</c> configuration section).</summary>
public sealed class PresenceOptions
{
    /// <summary>KV bucket holding one key per online member; created on first use.</summary>
    [Required]
    public string Bucket { get; set; } = "presence";

    /// <summary>Optional key prefix, so presence can share a bucket with other data.</summary>
    public string? KeyPrefix { get; set; }

    /// <summary>
    /// How long a member stays online after its last heartbeat (whole seconds, rounded up, at least 1 s): the time it
    /// takes to notice a member that vanished without leaving.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Ttl { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Heartbeat after this fraction of the TTL (0.1–0.8; default 1/3: two heartbeats may be lost).</summary>
    [Range(0.1, 0.8)]
    public double HeartbeatFraction { get; set; } = 1.0 / 3;

    /// <summary>Largest info payload a member may publish with its heartbeat.</summary>
    [Range(0, 64 * 1024)]
    public int MaxInfoBytes { get; set; } = 1024;

    /// <summary>How long expiry markers and leave tombstones stay in the bucket (at least 1 s).</summary>
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
        ?? PatternTtl.Check(Ttl, nameof(Ttl))
        ?? PatternTtl.Check(LimitMarkerTtl, nameof(LimitMarkerTtl))
        ?? (HeartbeatFraction is >= 0.1 and <= 0.8 ? null : $"HeartbeatFraction must be between 0.1 and 0.8 (was {HeartbeatFraction})")
        ?? (MaxInfoBytes is >= 0 and <= 64 * 1024 ? null : $"MaxInfoBytes must be between 0 and 65536 (was {MaxInfoBytes})")
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

    internal KvBucketConfig ToBucketConfig() => new()
    {
        Bucket = Bucket,
        Description = "Presence (CacheProvider.Presence)",
        History = 1,
        LimitMarkerTtl = LimitMarkerTtl,
        Storage = Storage,
        Replicas = Replicas,
    };
}
