using System.Runtime.CompilerServices;
using Microsoft.Extensions.Caching.Distributed;

namespace CacheProvider.Caching.Behaviour;

/// <summary>
/// What any conforming <see cref="IDistributedCache"/> + <see cref="IBufferDistributedCache"/> must do, as RedisCache
/// defines it (relative expiration beats absolute, sliding is capped by absolute, a past absolute expiration is refused).
/// A cache's test project derives one sealed class per configuration, gives it <see cref="Cache"/> and
/// <see cref="OtherCache"/> from a shared fixture, and overrides a hook only where the cache documents a difference.
/// </summary>
/// <remarks>
/// Tests share one store per derived class, so every test uses its own keys. Time is never asserted: a read is held
/// to an entry's lifetime only when the read lies wholly inside it (must hit) or starts after it (must miss), so a slow
/// machine makes a test wait longer, never fail.
/// </remarks>
public abstract partial class DistributedCacheBehaviourTests
{
    /// <summary>Sliding window of the sliding-expiration tests.</summary>
    protected static readonly TimeSpan Window = TimeSpan.FromSeconds(1);

    /// <summary>A relative expiration short enough to wait for (NATS TTLs have a 1 s granularity).</summary>
    protected static readonly TimeSpan Brief = TimeSpan.FromSeconds(1);

    /// <summary>No expiration.</summary>
    protected static readonly DistributedCacheEntryOptions NoExpiration = new();

    // Deadlines are kept in whole milliseconds: a read ending just before one may already count as after it.
    private static readonly TimeSpan Rounding = TimeSpan.FromMilliseconds(5);

    /// <summary>The cache under test.</summary>
    protected abstract IBufferDistributedCache Cache { get; }

    /// <summary>
    /// A second instance over the same store (another connection, another process role), used for what one instance
    /// writes and another reads. Changes reach an instance that already read the key within seconds, not at once.
    /// </summary>
    protected abstract IBufferDistributedCache OtherCache { get; }

    /// <summary>
    /// The longest key the cache accepts, in UTF-8 bytes (it must refuse a longer one with an
    /// <see cref="ArgumentException"/>); null when it has no limit of its own, and the suite then checks a 64 KiB key.
    /// </summary>
    protected virtual int? MaxKeyUtf8Bytes => null;

    /// <summary>
    /// Whether the cache refuses the empty key and keys of white space only, with an <see cref="ArgumentException"/>
    /// naming "key" (for instance because such a string cannot name a grain). By default they are keys like any other.
    /// </summary>
    protected virtual bool RefusesBlankKeys => false;

    /// <summary>
    /// How long past its window an idle sliding entry may still be read (0 = expires exactly one window after its last
    /// access, as in RedisCache). A cache that renews sliding entries lazily lets them live somewhat longer.
    /// </summary>
    protected virtual TimeSpan SlidingExpiryTolerance(TimeSpan window) => TimeSpan.Zero;

    /// <summary>A key no other test uses.</summary>
    protected static string NewKey([CallerMemberName] string test = "") => $"{test}-{Guid.NewGuid():N}";

    /// <summary>Reads <paramref name="key"/>, noting when the read started and ended.</summary>
    protected static async Task<TimedRead> TimedGetAsync(IDistributedCache cache, string key)
    {
        var started = DateTimeOffset.UtcNow;
        var value = await cache.GetAsync(key);
        return new TimedRead(value, started, DateTimeOffset.UtcNow);
    }

    /// <summary>
    /// Holds a read to an entry's lifetime: a read that ended before <paramref name="liveUntil"/> must return
    /// <paramref name="expected"/>; a read that started at or after <paramref name="goneFrom"/> must return nothing.
    /// </summary>
    protected static void AssertWithinLifetime(TimedRead read, byte[] expected, DateTimeOffset liveUntil, DateTimeOffset goneFrom, string what)
    {
        if (read.Ended + Rounding < liveUntil)
        {
            Assert.True(read.Value is { } v && v.AsSpan().SequenceEqual(expected), $"{what}: {(read.Value is null ? "missing" : "a different value")} in a read that ended at {read.Ended:HH:mm:ss.fff}, although it lives until at least {liveUntil:HH:mm:ss.fff}");
        }

        if (read.Started >= goneFrom)
        {
            Assert.True(read.Value is null, $"{what}: returned by a read that started at {read.Started:HH:mm:ss.fff}, after its deadline {goneFrom:HH:mm:ss.fff}");
        }
    }

    /// <summary>Reads until the entry is gone (each read held to its lifetime), then checks it stays gone.</summary>
    protected static async Task PollUntilGoneAsync(IDistributedCache cache, string key, byte[] expected, DateTimeOffset liveUntil, DateTimeOffset goneFrom, string what, Func<Task>? between = null)
    {
        while (true)
        {
            var read = await TimedGetAsync(cache, key);
            AssertWithinLifetime(read, expected, liveUntil, goneFrom, what);
            if (read.Value is null)
            {
                break;
            }

            // Unreachable past the deadline (the assertion above fails first): the loop ends.
            if (between is not null)
            {
                await between();
            }

            await Task.Delay(100);
        }

        Assert.Null(await cache.GetAsync(key));
    }

    /// <summary>Waits until <paramref name="moment"/> has passed on this machine's clock.</summary>
    protected static async Task WaitUntilAsync(DateTimeOffset moment)
    {
        // Timers run on another clock than DateTimeOffset.UtcNow and may fire a little early by it.
        for (var left = moment - DateTimeOffset.UtcNow; left >= TimeSpan.Zero; left = moment - DateTimeOffset.UtcNow)
        {
            await Task.Delay(left + TimeSpan.FromMilliseconds(1));
        }
    }

    /// <summary>Whether <paramref name="condition"/> holds within <paramref name="patience"/> (polled).</summary>
    protected static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan? patience = null)
    {
        var deadline = DateTimeOffset.UtcNow + (patience ?? TimeSpan.FromSeconds(15));
        while (!await condition())
        {
            if (DateTimeOffset.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return true;
    }

    /// <summary>Sets <paramref name="key"/>, noting when the call started and ended.</summary>
    protected async Task<(DateTimeOffset Started, DateTimeOffset Ended)> TimedSetAsync(string key, byte[] value, DistributedCacheEntryOptions options)
    {
        var started = DateTimeOffset.UtcNow;
        await Cache.SetAsync(key, value, options);
        return (started, DateTimeOffset.UtcNow);
    }

    /// <summary>A read with the moments it started and ended.</summary>
    protected readonly record struct TimedRead(byte[]? Value, DateTimeOffset Started, DateTimeOffset Ended);
}
