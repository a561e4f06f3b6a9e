using System.ComponentModel.DataAnnotations;
using CacheProvider.Internal;

namespace CacheProvider.Leases;

/// <summary>Bindable settings of <see cref="LeaseManager"/> (e.g. from the <c>Nats:Leases</c> configuration section).</summary>
public sealed class LeaseOptions : PatternBucketOptions
{
    /// <summary>Creates the settings with their defaults.</summary>
    public LeaseOptions() : base("leases", "Leased locks (CacheProvider.Leases)")
    {
    }

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

    /// <summary>Holder identity stored with each lease (diagnostics only); default <c>machine/pid</c>.</summary>
    [MaxLength(256)]
    public string? Owner { get; set; }

    /// <inheritdoc />
    protected override string? GetOwnValidationError() =>
        PatternTtl.Check(DefaultTtl, nameof(DefaultTtl))
        ?? (RenewalFraction is >= 0.1 and <= 0.8 ? null : $"RenewalFraction must be between 0.1 and 0.8 (was {RenewalFraction})")
        ?? (Owner is { Length: > 256 } ? "Owner must be at most 256 characters" : null);
}
