using Microsoft.Extensions.Caching.Distributed;

namespace CacheProvider.Caching.Internal;

/// <summary>
/// The expiration of one entry, computed as RedisCache does: relative beats absolute; sliding is capped by absolute.
/// The server TTL carries the deadline (rounded up to whole seconds); the exact deadlines travel in headers so that
/// reads can refuse a value the server has not swept yet.
/// </summary>
internal readonly record struct ExpirationPlan(long AbsoluteUnixMs, long SlidingMs, TimeSpan? ServerTtl)
{
    public const string AbsoluteHeader = "Cache-Abs";
    public const string SlidingHeader = "Cache-Sld";
    public const string KeyHeader = "Cache-Key";

    public static ReadOnlySpan<byte> AbsoluteHeaderUtf8 => "Cache-Abs"u8;

    public static ReadOnlySpan<byte> SlidingHeaderUtf8 => "Cache-Sld"u8;

    public static ReadOnlySpan<byte> KeyHeaderUtf8 => "Cache-Key"u8;

    public static ExpirationPlan From(DistributedCacheEntryOptions options, DateTimeOffset now, double slidingSlack)
    {
        DateTimeOffset? absolute = null;
        if (options.AbsoluteExpirationRelativeToNow is { } relative)
        {
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

        var sliding = options.SlidingExpiration;
        var absMs = absolute?.ToUnixTimeMilliseconds() ?? 0;
        var slidingMs = sliding is { } s ? (long)Math.Ceiling(s.TotalMilliseconds) : 0;
        return new ExpirationPlan(absMs, slidingMs, TtlAt(absMs, slidingMs, now, slidingSlack));
    }

    /// <summary>The server TTL for a write (or renewal) at <paramref name="now"/>; null = no TTL.</summary>
    public static TimeSpan? TtlAt(long absoluteUnixMs, long slidingMs, DateTimeOffset now, double slidingSlack)
    {
        TimeSpan? ttl = null;
        if (slidingMs > 0)
        {
            ttl = TimeSpan.FromMilliseconds(slidingMs * (1 + slidingSlack));
        }

        if (absoluteUnixMs > 0)
        {
            var left = DateTimeOffset.FromUnixTimeMilliseconds(absoluteUnixMs) - now;
            if (ttl is null || left < ttl)
            {
                ttl = left;
            }
        }

        if (ttl is { } t && t < TimeSpan.FromSeconds(1))
        {
            // The server's minimum; the exact deadline is enforced on read from the headers.
            ttl = TimeSpan.FromSeconds(1);
        }

        return ttl;
    }

    /// <summary>Whether a read at <paramref name="nowMs"/> must rewrite a sliding entry to keep it alive one more window.</summary>
    public static bool NeedsRenewal(long slidingMs, long serverDeadlineMs, long absoluteUnixMs, long nowMs)
    {
        if (slidingMs <= 0 || serverDeadlineMs <= 0)
        {
            return false;
        }

        if (absoluteUnixMs > 0 && serverDeadlineMs >= absoluteUnixMs)
        {
            return false; // already lives to its absolute cap
        }

        return serverDeadlineMs - nowMs < slidingMs;
    }
}
