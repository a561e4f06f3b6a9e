using System.Buffers;
using Microsoft.Extensions.Caching.Distributed;

namespace CacheProvider.Caching.Behaviour;

/// <summary>Absolute and relative expiration: exact deadlines, which one wins, past deadlines, overwrites.</summary>
public abstract partial class DistributedCacheBehaviourTests
{
    [Fact]
    public async Task An_absolute_expiration_is_the_entrys_deadline_and_Get_or_Refresh_do_not_extend_it()
    {
        var key = NewKey();
        var deadline = DateTimeOffset.UtcNow + Brief;
        await Cache.SetAsync(key, [1], new DistributedCacheEntryOptions { AbsoluteExpiration = deadline });
        await PollUntilGoneAsync(Cache, key, [1], deadline, deadline, "entry with an absolute expiration", () => Cache.RefreshAsync(key));
        Assert.Null(await OtherCache.GetAsync(key));
    }

    [Fact]
    public async Task A_relative_expiration_counts_from_the_set()
    {
        var key = NewKey();
        var set = await TimedSetAsync(key, [2], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = Brief });
        await PollUntilGoneAsync(Cache, key, [2], set.Started + Brief, set.Ended + Brief, "entry with a relative expiration");
    }

    [Fact]
    public async Task A_relative_expiration_beats_an_absolute_one_whether_shorter_or_longer()
    {
        var shorter = NewKey();
        var longer = NewKey();
        var absolute = DateTimeOffset.UtcNow + Brief;
        var setLonger = await TimedSetAsync(longer, [2], new DistributedCacheEntryOptions { AbsoluteExpiration = absolute, AbsoluteExpirationRelativeToNow = TimeSpan.FromHours(1) });
        var setShorter = await TimedSetAsync(shorter, [1], new DistributedCacheEntryOptions { AbsoluteExpiration = DateTimeOffset.UtcNow.AddHours(1), AbsoluteExpirationRelativeToNow = Brief });

        await PollUntilGoneAsync(Cache, shorter, [1], setShorter.Started + Brief, setShorter.Ended + Brief, "relative expiration shorter than the absolute one");

        // Past the absolute expiration, which the relative one replaced.
        await WaitUntilAsync(absolute);
        AssertWithinLifetime(await TimedGetAsync(Cache, longer), [2], setLonger.Started + TimeSpan.FromHours(1), DateTimeOffset.MaxValue, "relative expiration longer than the absolute one");
    }

    [Fact]
    public async Task An_absolute_expiration_in_the_past_is_refused_and_the_stored_value_stays()
    {
        var key = NewKey();
        await Cache.SetAsync(key, [1], NoExpiration);
        var past = new DistributedCacheEntryOptions { AbsoluteExpiration = DateTimeOffset.UtcNow.AddSeconds(-1) };

        // RedisCache names the option that is wrong; so must we.
        Assert.Equal(nameof(DistributedCacheEntryOptions.AbsoluteExpiration), (await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Cache.SetAsync(key, [2], past))).ParamName);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await Cache.SetAsync(key, new ReadOnlySequence<byte>([2]), past));
        Assert.Throws<ArgumentOutOfRangeException>(() => Cache.Set(key, [2], past));
        Assert.Throws<ArgumentOutOfRangeException>(() => Cache.Set(key, new ReadOnlySequence<byte>([2]), past));
        Assert.Equal([1], await Cache.GetAsync(key));

        var missing = NewKey();
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Cache.SetAsync(missing, [2], past));
        Assert.Null(await Cache.GetAsync(missing));
    }

    [Fact]
    public async Task A_set_replaces_the_previous_entrys_expiration_too()
    {
        // "lengthened" first expires briefly, then is set without expiration; "shortened" the other way round.
        var lengthened = NewKey();
        var shortened = NewKey();
        var firstSet = await TimedSetAsync(lengthened, [1], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = Brief });
        await Cache.SetAsync(lengthened, [2], NoExpiration);
        await Cache.SetAsync(shortened, [3], NoExpiration);
        var shortSet = await TimedSetAsync(shortened, [4], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = Brief });

        await PollUntilGoneAsync(Cache, shortened, [4], shortSet.Started + Brief, shortSet.Ended + Brief, "entry set again with an expiration");
        await WaitUntilAsync(firstSet.Ended + Brief);
        AssertWithinLifetime(await TimedGetAsync(Cache, lengthened), [2], DateTimeOffset.MaxValue, DateTimeOffset.MaxValue, "entry set again without expiration");
    }

    [Fact]
    public async Task A_key_set_again_after_its_entry_expired_keeps_the_new_value()
    {
        var key = NewKey();
        var set = await TimedSetAsync(key, [1], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = Brief });
        await PollUntilGoneAsync(Cache, key, [1], set.Started + Brief, set.Ended + Brief, "first entry");
        await Cache.SetAsync(key, [2], NoExpiration);

        // The store may report the first entry's expiry only now: that must not take the new value with it.
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal([2], await Cache.GetAsync(key));
            Assert.Equal([2], await OtherCache.GetAsync(key));
            await Task.Delay(250);
        }
    }
}
