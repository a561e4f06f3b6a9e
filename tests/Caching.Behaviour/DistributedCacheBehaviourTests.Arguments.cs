using System.Buffers;
using Microsoft.Extensions.Caching.Distributed;

namespace CacheProvider.Caching.Behaviour;

/// <summary>Null arguments and a cancelled token: typed exceptions, nothing changed.</summary>
public abstract partial class DistributedCacheBehaviourTests
{
    [Fact]
    public async Task Null_keys_values_options_and_writers_throw_ArgumentNullException()
    {
        var key = NewKey();
        var writer = new ArrayBufferWriter<byte>();
        var sequence = new ReadOnlySequence<byte>([1]);

        await AssertNullAsync("key", () => Cache.GetAsync(null!));
        await AssertNullAsync("key", () => Cache.SetAsync(null!, [1], NoExpiration));
        await AssertNullAsync("key", async () => await Cache.SetAsync(null!, sequence, NoExpiration));
        await AssertNullAsync("key", () => Cache.RefreshAsync(null!));
        await AssertNullAsync("key", () => Cache.RemoveAsync(null!));
        await AssertNullAsync("key", async () => await Cache.TryGetAsync(null!, writer));
        await AssertNullAsync("value", () => Cache.SetAsync(key, null!, NoExpiration));
        await AssertNullAsync("options", () => Cache.SetAsync(key, [1], null!));
        await AssertNullAsync("options", async () => await Cache.SetAsync(key, sequence, null!));
        await AssertNullAsync("destination", async () => await Cache.TryGetAsync(key, null!));

        AssertNull("key", () => Cache.Get(null!));
        AssertNull("key", () => Cache.Set(null!, [1], NoExpiration));
        AssertNull("key", () => Cache.Set(null!, sequence, NoExpiration));
        AssertNull("key", () => Cache.Refresh(null!));
        AssertNull("key", () => Cache.Remove(null!));
        AssertNull("key", () => Cache.TryGet(null!, writer));
        AssertNull("value", () => Cache.Set(key, null!, NoExpiration));
        AssertNull("options", () => Cache.Set(key, [1], null!));
        AssertNull("options", () => Cache.Set(key, sequence, null!));
        AssertNull("destination", () => Cache.TryGet(key, null!));

        Assert.Equal(0, writer.WrittenCount);
        Assert.Null(await Cache.GetAsync(key));
    }

    [Fact]
    public async Task A_cancelled_token_stops_every_async_member_and_changes_nothing()
    {
        var key = NewKey();
        await Cache.SetAsync(key, [1], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(1) });
        Assert.Equal([1], await Cache.GetAsync(key));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var token = cancelled.Token;
        var writer = new ArrayBufferWriter<byte>();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Cache.GetAsync(key, token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Cache.TryGetAsync(key, writer, token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Cache.SetAsync(key, [2], NoExpiration, token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Cache.SetAsync(key, new ReadOnlySequence<byte>([3]), NoExpiration, token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Cache.RefreshAsync(key, token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Cache.RemoveAsync(key, token));

        var missing = NewKey();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Cache.SetAsync(missing, [4], NoExpiration, token));

        Assert.Equal(0, writer.WrittenCount);
        Assert.Equal([1], await Cache.GetAsync(key));
        Assert.Equal([1], await OtherCache.GetAsync(key));
        Assert.Null(await Cache.GetAsync(missing));
        Assert.Null(await OtherCache.GetAsync(missing));
    }

    private static async Task AssertNullAsync(string parameter, Func<Task> call)
    {
        var ex = await Assert.ThrowsAsync<ArgumentNullException>(call);
        Assert.Equal(parameter, ex.ParamName);
    }

    private static void AssertNull(string parameter, Action call)
    {
        var ex = Assert.Throws<ArgumentNullException>(call);
        Assert.Equal(parameter, ex.ParamName);
    }
}
