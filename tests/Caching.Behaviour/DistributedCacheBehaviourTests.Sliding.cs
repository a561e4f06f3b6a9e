using Microsoft.Extensions.Caching.Distributed;

namespace CacheProvider.Caching.Behaviour;

/// <summary>
/// Sliding expiration: each access (Get, Refresh) keeps the entry for at least one more window; idle, it expires;
/// an absolute expiration caps it.
/// </summary>
public abstract partial class DistributedCacheBehaviourTests
{
    // A machine so loaded that accesses fall more than a window apart lets the entry expire legitimately: the test then
    // starts over, at most this often.
    private const int MaxStalls = 5;

    private static readonly DistributedCacheEntryOptions Sliding = new() { SlidingExpiration = Window };

    [Fact]
    public Task Gets_keep_a_sliding_entry_alive_past_anything_one_write_would_give_it()
    {
        var key = NewKey();
        return UntilNotStalledAsync(async () =>
        {
            var set = await TimedSetAsync(key, [1], Sliding);
            var lastAccess = set.Started;
            var beyond = set.Ended + Window + SlidingExpiryTolerance(Window);
            TimedRead read;
            do
            {
                await Task.Delay(100);
                read = await TimedGetAsync(Cache, key);
                AssertWithinLifetime(read, [1], lastAccess + Window, DateTimeOffset.MaxValue, "sliding entry read within its window");
                lastAccess = read.Started;
            }
            while (read.Value is not null && read.Started < beyond);

            return read.Value is not null;
        });
    }

    [Fact]
    public Task Refreshes_keep_a_sliding_entry_alive_past_anything_one_write_would_give_it()
    {
        var key = NewKey();
        return UntilNotStalledAsync(async () =>
        {
            var set = await TimedSetAsync(key, [1], Sliding);
            var lastAccess = set.Started;
            var beyond = set.Ended + Window + SlidingExpiryTolerance(Window);
            var inTime = true;
            for (var i = 0; inTime && DateTimeOffset.UtcNow < beyond; i++)
            {
                await Task.Delay(100);
                var started = DateTimeOffset.UtcNow;
                if (i % 2 == 0)
                {
                    await Cache.RefreshAsync(key);
                }
                else
                {
                    Cache.Refresh(key);
                }

                // A refresh that ends after the last access's window may find the entry gone: nothing to conclude.
                inTime = DateTimeOffset.UtcNow < lastAccess + Window;
                lastAccess = started;
            }

            var read = await TimedGetAsync(Cache, key);
            if (inTime && read.Ended < lastAccess + Window)
            {
                AssertWithinLifetime(read, [1], lastAccess + Window, DateTimeOffset.MaxValue, "sliding entry refreshed within its window");
                return true;
            }

            return false;
        });
    }

    [Fact]
    public async Task An_idle_sliding_entry_expires_one_window_after_its_last_access()
    {
        var key = NewKey();
        var set = await TimedSetAsync(key, [1], Sliding);
        var read = await TimedGetAsync(Cache, key);
        AssertWithinLifetime(read, [1], set.Started + Window, DateTimeOffset.MaxValue, "sliding entry read within its window");
        var lastAccessEnded = read.Value is null ? set.Ended : read.Ended;

        var goneFrom = lastAccessEnded + Window + SlidingExpiryTolerance(Window);
        await WaitUntilAsync(goneFrom);
        AssertWithinLifetime(await TimedGetAsync(Cache, key), [1], DateTimeOffset.MinValue, goneFrom, "idle sliding entry");
        AssertWithinLifetime(await TimedGetAsync(OtherCache, key), [1], DateTimeOffset.MinValue, goneFrom, "idle sliding entry read by the other instance");
    }

    [Fact]
    public async Task A_never_read_sliding_entry_shorter_than_the_servers_second_is_not_served_past_its_bound()
    {
        // The server's TTL has whole seconds (1 s at least); the cache must still end a 250 ms window on time.
        var window = TimeSpan.FromMilliseconds(250);
        var key = NewKey();
        var set = await TimedSetAsync(key, [1], new DistributedCacheEntryOptions { SlidingExpiration = window });
        var goneFrom = set.Ended + window + SlidingExpiryTolerance(window);
        await WaitUntilAsync(goneFrom);
        AssertWithinLifetime(await TimedGetAsync(Cache, key), [1], DateTimeOffset.MinValue, goneFrom, "idle sub-second sliding entry");
        AssertWithinLifetime(await TimedGetAsync(OtherCache, key), [1], DateTimeOffset.MinValue, goneFrom, "idle sub-second sliding entry read by the other instance");
    }

    [Fact]
    public async Task An_absolute_expiration_caps_a_sliding_entry_however_often_it_is_accessed()
    {
        var key = NewKey();
        var cap = Brief;
        var set = await TimedSetAsync(key, [1], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(1), AbsoluteExpirationRelativeToNow = cap });
        await PollUntilGoneAsync(Cache, key, [1], set.Started + cap, set.Ended + cap, "sliding entry under an absolute cap", () => Cache.RefreshAsync(key));
    }

    /// <summary>Runs a sliding attempt until it concludes (true); one that stalled past a window (false) starts over.</summary>
    private static async Task UntilNotStalledAsync(Func<Task<bool>> attempt)
    {
        for (var stalls = 0; ; stalls++)
        {
            Assert.True(stalls < MaxStalls, "accesses fell more than a window apart too often to test sliding expiration");
            if (await attempt())
            {
                return;
            }
        }
    }
}
