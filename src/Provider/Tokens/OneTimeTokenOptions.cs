using System.ComponentModel.DataAnnotations;
using CacheProvider.Internal;
using CacheProvider.Nats.KeyValue;

namespace CacheProvider.Tokens;

/// <summary>Bindable settings of <see cref="OneTimeTokenStore"/> (e.g. from the <c>Nats:Tokens</c> configuration section).</summary>
public sealed class OneTimeTokenOptions
{
    /// <summary>KV bucket holding the tokens; created on first use. May be shared with sessions (use a prefix).</summary>
    [Required]
    public string Bucket { get; set; } = "tokens";

    /// <summary>Optional key prefix, so tokens can share a bucket with other data.</summary>
    public string? KeyPrefix { get; set; }

    /// <summary>Lifetime of a token when the issue call gives none (whole seconds, rounded up, at least 1 s).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan DefaultTtl { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Largest payload a token may carry.</summary>
    [Range(0, 64 * 1024)]
    public int MaxPayloadBytes { get; set; } = 4096;

    /// <summary>Random bytes in a generated token (16–64; 32 = 256 bits, 43 characters).</summary>
    [Range(16, 64)]
    public int TokenBytes { get; set; } = 32;

    /// <summary>How long expiry markers and the tombstones of consumed tokens stay in the bucket (at least 1 s).</summary>
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
        ?? PatternTtl.Check(DefaultTtl, nameof(DefaultTtl))
        ?? PatternTtl.Check(LimitMarkerTtl, nameof(LimitMarkerTtl))
        ?? (MaxPayloadBytes is >= 0 and <= 64 * 1024 ? null : $"MaxPayloadBytes must be between 0 and 65536 (was {MaxPayloadBytes})")
        ?? (TokenBytes is >= 16 and <= 64 ? null : $"TokenBytes must be between 16 and 64 (was {TokenBytes})")
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
        Description = "One-time tokens (CacheProvider.Tokens)",
        History = 1,
        LimitMarkerTtl = LimitMarkerTtl,
        Storage = Storage,
        Replicas = Replicas,
    };
}
