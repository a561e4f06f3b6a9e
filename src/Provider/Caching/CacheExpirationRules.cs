using CacheProvider.Caching.Internal;
using Microsoft.Extensions.Caching.Distributed;

namespace CacheProvider.Caching;

/// <summary>
/// The cache's expiration rules (RedisCache's): relative beats absolute, sliding is capped by absolute; a sliding entry
/// is stored with TTL = window × (1 + renewal fraction) and rewritten only when less than one window remains. Public so
/// that other stores of the same entries (the Orleans cache grains) keep exactly these rules and headers.
/// </summary>
public static class CacheExpirationRules
{
    /// <summary>Header carrying the absolute deadline (Unix ms).</summary>
    public const string AbsoluteHeader = ExpirationPlan.AbsoluteHeader;

    /// <summary>Header carrying the sliding window (ms).</summary>
    public const string SlidingHeader = ExpirationPlan.SlidingHeader;

    /// <summary>The absolute deadline (Unix ms, 0 = none) and sliding window (ms, 0 = none) of <paramref name="options"/> at <paramref name="now"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An absolute expiration in the past.</exception>
    public static (long AbsoluteUnixMs, long SlidingMs) From(DistributedCacheEntryOptions options, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(options);
        var plan = ExpirationPlan.From(options, now, 0);
        return (plan.AbsoluteUnixMs, plan.SlidingMs);
    }

    /// <summary>The server TTL of a write (or renewal) at <paramref name="nowUnixMs"/>; null = none; at least 1 s (the server's minimum).</summary>
    public static TimeSpan? ServerTtl(long absoluteUnixMs, long slidingMs, long nowUnixMs, double renewalFraction) =>
        ExpirationPlan.TtlAt(absoluteUnixMs, slidingMs, DateTimeOffset.FromUnixTimeMilliseconds(nowUnixMs), renewalFraction);

    /// <summary>Whether a read at <paramref name="nowUnixMs"/> must rewrite a sliding entry to keep it alive one more window.</summary>
    public static bool NeedsRenewal(long absoluteUnixMs, long slidingMs, long serverDeadlineUnixMs, long nowUnixMs) =>
        ExpirationPlan.NeedsRenewal(slidingMs, serverDeadlineUnixMs, absoluteUnixMs, nowUnixMs);
}
