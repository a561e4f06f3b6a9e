using System.Buffers;
using Microsoft.Extensions.Caching.Distributed;

namespace CacheProvider.Caching.Behaviour;

/// <summary>Get, set, remove and refresh, async and sync; missing keys; copies; a second instance.</summary>
public abstract partial class DistributedCacheBehaviourTests
{
    [Fact]
    public async Task A_missing_key_reads_as_null_through_every_read_member()
    {
        var key = NewKey();
        Assert.Null(await Cache.GetAsync(key));
        Assert.Null(Cache.Get(key));
        var writer = new ArrayBufferWriter<byte>();
        Assert.False(await Cache.TryGetAsync(key, writer));
        Assert.False(Cache.TryGet(key, writer));
        Assert.Equal(0, writer.WrittenCount);
    }

    [Fact]
    public async Task Set_then_get_returns_the_value()
    {
        var key = NewKey();
        await Cache.SetAsync(key, "hello"u8.ToArray(), NoExpiration);
        Assert.Equal("hello"u8.ToArray(), await Cache.GetAsync(key));
    }

    [Fact]
    public void The_synchronous_members_set_get_refresh_and_remove()
    {
        var key = NewKey();
        Cache.Set(key, [1, 2], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(1) });
        Assert.Equal([1, 2], Cache.Get(key));
        Cache.Refresh(key);
        Assert.Equal([1, 2], Cache.Get(key));

        Cache.Set(key, new ReadOnlySequence<byte>([3]), NoExpiration);
        var writer = new ArrayBufferWriter<byte>();
        Assert.True(Cache.TryGet(key, writer));
        Assert.Equal([3], writer.WrittenSpan.ToArray());

        Cache.Remove(key);
        Assert.Null(Cache.Get(key));
    }

    [Fact]
    public async Task Set_replaces_the_previous_value()
    {
        var key = NewKey();
        await Cache.SetAsync(key, "one"u8.ToArray(), NoExpiration);
        await Cache.SetAsync(key, "two"u8.ToArray(), NoExpiration);
        Assert.Equal("two"u8.ToArray(), await Cache.GetAsync(key));
        await Cache.SetAsync(key, "3"u8.ToArray(), NoExpiration);
        Assert.Equal("3"u8.ToArray(), await Cache.GetAsync(key));
    }

    [Fact]
    public async Task Remove_deletes_the_entry_and_removing_a_missing_key_is_harmless()
    {
        var key = NewKey();
        await Cache.SetAsync(key, [1], NoExpiration);
        await Cache.RemoveAsync(key);
        Assert.Null(await Cache.GetAsync(key));
        Assert.Null(await OtherCache.GetAsync(key));

        await Cache.RemoveAsync(key);
        Cache.Remove(key);
        await Cache.RemoveAsync(NewKey());
        Assert.Null(await Cache.GetAsync(key));
    }

    [Fact]
    public async Task A_key_set_again_after_a_remove_holds_the_new_value()
    {
        var key = NewKey();
        await Cache.SetAsync(key, [1], NoExpiration);
        await Cache.RemoveAsync(key);
        await Cache.SetAsync(key, [2], NoExpiration);
        Assert.Equal([2], await Cache.GetAsync(key));
        Assert.Equal([2], await OtherCache.GetAsync(key));
    }

    [Fact]
    public async Task Refresh_of_a_missing_key_is_harmless_and_creates_nothing()
    {
        var key = NewKey();
        await Cache.RefreshAsync(key);
        Cache.Refresh(key);
        Assert.Null(await Cache.GetAsync(key));
    }

    [Fact]
    public async Task Refresh_leaves_an_entry_without_sliding_expiration_as_it_was()
    {
        var key = NewKey();
        await Cache.SetAsync(key, [4], NoExpiration);
        await Cache.RefreshAsync(key);
        Assert.Equal([4], await Cache.GetAsync(key));
    }

    [Fact]
    public async Task The_cache_keeps_its_own_copy_changing_the_callers_arrays_changes_nothing_stored()
    {
        var key = NewKey();
        var value = new byte[] { 1, 2, 3 };
        await Cache.SetAsync(key, value, NoExpiration);
        value[0] = 9;
        var read = await Cache.GetAsync(key);
        Assert.Equal([1, 2, 3], read);
        read![1] = 9;
        Assert.Equal([1, 2, 3], await Cache.GetAsync(key));
        Assert.Equal([1, 2, 3], await OtherCache.GetAsync(key));
    }

    [Fact]
    public async Task Another_instance_reads_what_one_writes_and_sees_its_overwrites_and_removals()
    {
        var key = NewKey();
        await Cache.SetAsync(key, [1], NoExpiration);
        Assert.Equal([1], await OtherCache.GetAsync(key));

        await Cache.SetAsync(key, [2], NoExpiration);
        Assert.True(await EventuallyAsync(async () => (await OtherCache.GetAsync(key)) is [2]), "the other instance never saw the overwrite");

        await OtherCache.RemoveAsync(key);
        Assert.True(await EventuallyAsync(async () => await Cache.GetAsync(key) is null), "the writer never saw the other instance's removal");
    }
}
