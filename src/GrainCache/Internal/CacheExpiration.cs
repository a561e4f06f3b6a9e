using CacheProvider.Caching;
using Microsoft.Extensions.Caching.Distributed;

namespace CacheProvider.Grains.Caching.Internal;

/// <summary>
/// The direct cache's expiration rules (<see cref="CacheExpirationRules"/>) for a grain's entry, plus the argument checks
/// the grain makes before anything is written.
/// </summary>
internal static class CacheExpiration
{
    /// <summary>Client side: the absolute deadline (unix ms, 0 = none) and sliding window (ms, 0 = none) of <paramref name="options"/>.</summary>
    public static CacheEntryExpiration From(DistributedCacheEntryOptions options, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.AbsoluteExpirationRelativeToNow is { } relative && relative <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), relative, "The relative expiration value must be positive.");
        }

        if (options.SlidingExpiration is { } s && s <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), s, "The sliding expiration value must be positive.");
        }

        var (absoluteUnixMs, slidingMs) = CacheExpirationRules.From(options, now);
        return new CacheEntryExpiration(absoluteUnixMs, slidingMs);
    }

    /// <summary>The server TTL of a write (or renewal) at <paramref name="nowMs"/>; null = no TTL. At least 1 s (the server's minimum).</summary>
    public static TimeSpan? ServerTtl(CacheEntryExpiration expiration, long nowMs, double renewalFraction) =>
        CacheExpirationRules.ServerTtl(expiration.AbsoluteUnixMs, expiration.SlidingMs, nowMs, renewalFraction);

    /// <summary>Whether a read at <paramref name="nowMs"/> must rewrite a sliding entry to keep it alive one more window.</summary>
    public static bool NeedsRenewal(CacheEntryExpiration expiration, long serverDeadlineMs, long nowMs) =>
        CacheExpirationRules.NeedsRenewal(expiration.AbsoluteUnixMs, expiration.SlidingMs, serverDeadlineMs, nowMs);
}
