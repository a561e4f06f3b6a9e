namespace CacheProvider.Grains.Caching.Internal;

/// <summary>
/// How long a front end may serve a copy of an entry from memory, and what that means for a sliding entry.
/// </summary>
/// <remarks>
/// A hit on a copy is an access the grain never sees, yet a sliding entry must live at least one window after any
/// access. The entry is stored with a TTL of window × (1 + f), so while at least one window of that TTL is left
/// the server already keeps it long enough: a copy is served only until one window before the stored deadline (the
/// direct cache's near-cache rule), and the grain, when it hands the copy out, keeps the entry until that stored
/// deadline (it never drops it earlier as idle). After the copy ends the next read reaches the grain, which renews the
/// entry when less than a window is left, exactly as without copies. So an entry lives at least one window after its
/// last access, copy hits included, and at most until its stored TTL runs out (f × window longer than strictly
/// needed, as with the direct cache). Non-sliding entries: a copy ends at the earlier of the absolute deadline and
/// the stored TTL.
/// </remarks>
internal static class NearCopyRule
{
    /// <summary>No copy may be kept.</summary>
    public const long None = 0;

    /// <summary>A copy may be kept with no deadline (an entry without expiration).</summary>
    public const long Unbounded = -1;

    /// <summary>
    /// How long from <paramref name="nowMs"/> a copy may be served (<see cref="None"/>, <see cref="Unbounded"/>, or
    /// milliseconds), and the sliding deadline (unix ms) the grain must then keep at least (0 = no change).
    /// </summary>
    public static (long CopyMs, long KeepSlidingUntilMs) Plan(CacheEntryExpiration expiration, long serverDeadlineMs, long nowMs)
    {
        long until;
        long keep = 0;
        if (expiration.SlidingMs > 0)
        {
            if (serverDeadlineMs <= 0)
            {
                return (None, 0);
            }

            if (expiration.AbsoluteUnixMs > 0 && serverDeadlineMs >= expiration.AbsoluteUnixMs)
            {
                // Stored until its absolute cap: every access before the cap is covered already.
                until = expiration.AbsoluteUnixMs;
                keep = expiration.AbsoluteUnixMs;
            }
            else
            {
                until = serverDeadlineMs - expiration.SlidingMs;
                keep = serverDeadlineMs;
            }
        }
        else
        {
            until = expiration.AbsoluteUnixMs <= 0 ? serverDeadlineMs
                : serverDeadlineMs <= 0 ? expiration.AbsoluteUnixMs
                : Math.Min(expiration.AbsoluteUnixMs, serverDeadlineMs);
            if (until <= 0)
            {
                return (Unbounded, 0);
            }
        }

        return until > nowMs ? (until - nowMs, keep) : (None, 0);
    }
}
