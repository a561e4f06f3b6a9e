using System.ComponentModel.DataAnnotations;
using CacheProvider.Internal;

namespace CacheProvider.Presence;

/// <summary>Bindable settings of <see cref="PresenceTracker"/> (e.g. from the <c>Nats:Presence</c> configuration section).</summary>
public sealed class PresenceOptions : PatternBucketOptions
{
    /// <summary>Creates the settings with their defaults.</summary>
    public PresenceOptions() : base("presence", "Presence (CacheProvider.Presence)")
    {
    }

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

    /// <inheritdoc />
    protected override string? GetOwnValidationError() =>
        PatternTtl.Check(Ttl, nameof(Ttl))
        ?? (HeartbeatFraction is >= 0.1 and <= 0.8 ? null : $"HeartbeatFraction must be between 0.1 and 0.8 (was {HeartbeatFraction})")
        ?? (MaxInfoBytes is >= 0 and <= 64 * 1024 ? null : $"MaxInfoBytes must be between 0 and 65536 (was {MaxInfoBytes})");
}
