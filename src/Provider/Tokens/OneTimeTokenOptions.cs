using System.ComponentModel.DataAnnotations;
using CacheProvider.Internal;

namespace CacheProvider.Tokens;

/// <summary>Bindable settings of <see cref="OneTimeTokenStore"/> (e.g. from the <c>Nats:Tokens</c> configuration section).</summary>
public sealed class OneTimeTokenOptions : PatternBucketOptions
{
    /// <summary>Creates the settings with their defaults.</summary>
    public OneTimeTokenOptions() : base("tokens", "One-time tokens (CacheProvider.Tokens)")
    {
    }

    /// <summary>Lifetime of a token when the issue call gives none (whole seconds, rounded up, at least 1 s).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan DefaultTtl { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Largest payload a token may carry.</summary>
    [Range(0, 64 * 1024)]
    public int MaxPayloadBytes { get; set; } = 4096;

    /// <summary>Random bytes in a generated token (16–64; 32 = 256 bits, 43 characters).</summary>
    [Range(16, 64)]
    public int TokenBytes { get; set; } = 32;

    /// <inheritdoc />
    protected override string? GetOwnValidationError() =>
        PatternTtl.Check(DefaultTtl, nameof(DefaultTtl))
        ?? (MaxPayloadBytes is >= 0 and <= 64 * 1024 ? null : $"MaxPayloadBytes must be between 0 and 65536 (was {MaxPayloadBytes})")
        ?? (TokenBytes is >= 16 and <= 64 ? null : $"TokenBytes must be between 16 and 64 (was {TokenBytes})");
}
