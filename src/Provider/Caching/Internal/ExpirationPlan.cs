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
                // RedisCache's parameter name (the option, not this method's parameter), so callers that catch by it
                // behave the same over either cache.
#pragma warning disable CA2208
                throw new ArgumentOutOfRangeException(nameof(DistributedCacheEntryOptions.AbsoluteExpiration), abs, "The absolute expiration value must be in the future.");
#pragma warning restore CA2208
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

    /// <summary>
    /// When an entry written at <paramref name="writtenMs"/> stops being served: its server deadline
    /// (<paramref name="serverDeadlineMs"/>, 0 = none), and for a sliding entry no later than window × (1 + slack) after
    /// the write. The server TTL is rounded up to whole seconds (1 s at least), so a short window would otherwise be
    /// served for up to a second without an access renewing it.
    /// </summary>
    public static long StoredDeadline(long writtenMs, long serverDeadlineMs, long slidingMs, double slidingSlack)
    {
        if (slidingMs <= 0 || writtenMs <= 0)
        {
            return serverDeadlineMs;
        }

        var sliding = writtenMs + (long)Math.Ceiling(slidingMs * (1 + slidingSlack));
        return serverDeadlineMs > 0 && serverDeadlineMs < sliding ? serverDeadlineMs : sliding;
    }

    /// <summary>The deadline of a write at <paramref name="nowMs"/> with server TTL <paramref name="ttl"/>: see <see cref="StoredDeadline"/>.</summary>
    public static long DeadlineOfWrite(long nowMs, TimeSpan? ttl, long slidingMs, double slidingSlack) =>
        StoredDeadline(nowMs, ttl is { } t ? nowMs + (long)Math.Ceiling(t.TotalSeconds) * 1000 : 0, slidingMs, slidingSlack);

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
