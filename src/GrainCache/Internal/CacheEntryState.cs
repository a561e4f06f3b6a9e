using System.Text.Json.Serialization;
using Orleans;

namespace CacheProvider.Grains.Caching.Internal;

/// <summary>
/// What a cache grain persists through its grain storage: the value and its expiration, plus when it was written and
/// with which server TTL, so an activation on any silo (or after a restart) knows the remaining TTL without seeing the
/// KV entry. The storage takes the per-write TTL from <see cref="TimeToLive"/> (<see cref="IStateTimeToLive"/>).
/// Never changed once written: a renewal or a new value is a new instance.
/// </summary>
[GenerateSerializer]
[Alias("CacheProvider.Grains.Caching.CacheEntryState")]
internal sealed class CacheEntryState : IStateTimeToLive
{
    /// <summary>The cached bytes; null only in the empty state a missing read gives.</summary>
    [Id(0)]
    public byte[]? Value { get; set; }

    /// <summary>Absolute deadline, unix ms; 0 = none.</summary>
    [Id(1)]
    public long AbsoluteUnixMs { get; set; }

    /// <summary>Sliding window, ms; 0 = none.</summary>
    [Id(2)]
    public long SlidingMs { get; set; }

    /// <summary>When this revision was written (the writing silo's clock), unix ms.</summary>
    [Id(3)]
    public long WrittenUnixMs { get; set; }

    /// <summary>The server TTL of this revision, ms: &gt; 0 a TTL, -1 never, 0 none given (the storage's configured TTL).</summary>
    [Id(4)]
    public long TtlMs { get; set; }

    /// <inheritdoc />
    [JsonIgnore]
    public TimeSpan? TimeToLive => TtlMs switch
    {
        > 0 => TimeSpan.FromMilliseconds(TtlMs),
        < 0 => Timeout.InfiniteTimeSpan,
        _ => null,
    };

    /// <summary>When the server drops this revision (unix ms; at or before it, since the storage rounds TTLs up); 0 = never.</summary>
    [JsonIgnore]
    public long ServerDeadlineUnixMs => TtlMs > 0 ? WrittenUnixMs + TtlMs : 0;

    [JsonIgnore]
    public CacheEntryExpiration Expiration => new(AbsoluteUnixMs, SlidingMs);

    /// <summary>A revision of <paramref name="value"/> written at <paramref name="nowMs"/> with the direct cache's server TTL.</summary>
    public static CacheEntryState Create(byte[] value, CacheEntryExpiration expiration, long nowMs, double renewalFraction)
    {
        var ttl = CacheExpiration.ServerTtl(expiration, nowMs, renewalFraction);
        return new CacheEntryState
        {
            Value = value,
            AbsoluteUnixMs = expiration.AbsoluteUnixMs,
            SlidingMs = expiration.SlidingMs,
            WrittenUnixMs = nowMs,
            TtlMs = ttl is { } t ? (long)Math.Ceiling(t.TotalMilliseconds) : -1,
        };
    }
}
