using Microsoft.Extensions.Caching.Distributed;

namespace CacheProvider.Grains.Caching.Internal;

/// <summary>
/// Expiration math of one cache entry, the same rules as src/Provider's <c>ExpirationPlan</c> (RedisCache's): relative
/// beats absolute, sliding is capped by absolute; a sliding entry is stored with TTL = window × (1 + fraction) and
/// rewritten only when less than one window remains, so at most once per fraction of the window.
/// </summary>
internal static class CacheExpiration
{
    public const string AbsoluteHeader = "Cache-Abs";
    public const string SlidingHeader = "Cache-Sld";

    /// <summary>Client side: the absolute deadline (unix ms, 0 = none) and sliding window (ms, 0 = none) of <paramref name="options"/>.</summary>
    public static CacheEntryExpiration From(DistributedCacheEntryOptions options, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(options);
        DateTimeOffset? absolute = null;
        if (options.AbsoluteExpirationRelativeToNow is { } relative)
        {
            if (relative <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(options), relative, "The relative expiration value must be positive.");
            }

            absolute = now + relative;
        }
        else if (options.AbsoluteExpiration is { } abs)
        {
            if (abs <= now)
            {
                throw new ArgumentOutOfRangeException(nameof(options), abs, "The absolute expiration value must be in the future.");
            }

            absolute = abs;
        }

        if (options.SlidingExpiration is { } s && s <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), s, "The sliding expiration value must be positive.");
        }

        var slidingMs = options.SlidingExpiration is { } sliding ? (long)Math.Ceiling(sliding.TotalMilliseconds) : 0;
        return new CacheEntryExpiration(absolute?.ToUnixTimeMilliseconds() ?? 0, slidingMs);
    }

    /// <summary>The server TTL of a write (or renewal) at <paramref name="nowMs"/>; null = no TTL. At least 1 s (the server's minimum).</summary>
    public static TimeSpan? ServerTtl(CacheEntryExpiration expiration, long nowMs, double renewalFraction)
    {
        long? ttlMs = null;
        if (expiration.SlidingMs > 0)
        {
            ttlMs = (long)Math.Ceiling(expiration.SlidingMs * (1 + renewalFraction));
        }

        if (expiration.AbsoluteUnixMs > 0)
        {
            var left = expiration.AbsoluteUnixMs - nowMs;
            if (ttlMs is null || left < ttlMs)
            {
                ttlMs = left;
            }
        }

        return ttlMs is { } t ? TimeSpan.FromMilliseconds(Math.Max(1000, t)) : null;
    }

    /// <summary>Whether a read at <paramref name="nowMs"/> must rewrite a sliding entry to keep it alive one more window.</summary>
    public static bool NeedsRenewal(CacheEntryExpiration expiration, long serverDeadlineMs, long nowMs)
    {
        if (expiration.SlidingMs <= 0 || serverDeadlineMs <= 0)
        {
            return false;
        }

        if (expiration.AbsoluteUnixMs > 0 && serverDeadlineMs >= expiration.AbsoluteUnixMs)
        {
            return false; // already lives to its absolute cap
        }

        return serverDeadlineMs - nowMs < expiration.SlidingMs;
    }
}
