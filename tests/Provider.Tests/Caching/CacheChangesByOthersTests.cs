using CacheProvider.Caching;
using Microsoft.Extensions.Caching.Distributed;

namespace CacheProvider.Tests.Caching;

public sealed class CacheChangesByOthersTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Watch_reports_other_instances_sets_removes_and_expiries_but_none_of_its_own_writes()
    {
        await using var h = await CacheHarness.StartAsync(output);
        var mine = h.Cache();
        var other = h.Cache();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var watching = new TaskCompletionSource();
        var enumerator = mine.WatchChangesByOthersAsync(onWatching: watching.SetResult, cancellationToken: cts.Token).GetAsyncEnumerator(cts.Token);
        var first = enumerator.MoveNextAsync();
        await watching.Task.WaitAsync(cts.Token);

        var longKey = new string('x', 600); // hashed in the bucket: its removal marker carries no key
        await mine.SetAsync("own", [1], new DistributedCacheEntryOptions());
        await mine.RemoveAsync("own");
        await other.SetAsync("theirs", [2], new DistributedCacheEntryOptions());
        await other.SetAsync(longKey, [3], new DistributedCacheEntryOptions());

        var changes = new List<CacheKeyChange>();
        Assert.True(await first);
        changes.Add(enumerator.Current);
        while (changes.Count < 2 && await enumerator.MoveNextAsync())
        {
            changes.Add(enumerator.Current);
        }

        // Removed only once its write was delivered: the bucket keeps one revision per key, so a write its removal
        // replaced before delivery is skipped, and then the removal marker alone could not name the hashed key.
        await other.RemoveAsync(longKey);
        await mine.SetAsync("expiring", [4], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(1) });
        while (changes.Count < 4 && await enumerator.MoveNextAsync())
        {
            changes.Add(enumerator.Current);
        }

        await enumerator.DisposeAsync();
        Assert.Equal(
            [("theirs", CacheKeyChangeKind.Written), (longKey, CacheKeyChangeKind.Written), (longKey, CacheKeyChangeKind.Removed), ("expiring", CacheKeyChangeKind.Expired)],
            changes.Select(c => (c.Key, c.Kind)).ToArray());
    }

    [Fact]
    public async Task Many_concurrent_own_writes_are_all_recognised_as_own()
    {
        await using var h = await CacheHarness.StartAsync(output);
        var mine = h.Cache();
        var other = h.Cache();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var watching = new TaskCompletionSource();
        var enumerator = mine.WatchChangesByOthersAsync(onWatching: watching.SetResult, cancellationToken: cts.Token).GetAsyncEnumerator(cts.Token);
        var first = enumerator.MoveNextAsync();
        await watching.Task.WaitAsync(cts.Token);

        // The watch may deliver a write before the writer has its acknowledgement: those events wait, they are not "other".
        await Task.WhenAll(Enumerable.Range(0, 500).Select(i => mine.SetAsync("k" + (i % 20), [(byte)i], new DistributedCacheEntryOptions())));
        await other.SetAsync("last", [1], new DistributedCacheEntryOptions());
        Assert.True(await first);
        Assert.Equal("last", enumerator.Current.Key);
        await enumerator.DisposeAsync();
    }

    [Fact]
    public async Task A_key_this_instance_writes_without_pause_does_not_stall_the_watch()
    {
        await using var h = await CacheHarness.StartAsync(output);
        var mine = h.Cache();
        var other = h.Cache();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var watching = new TaskCompletionSource();
        var enumerator = mine.WatchChangesByOthersAsync(onWatching: watching.SetResult, cancellationToken: cts.Token).GetAsyncEnumerator(cts.Token);
        var first = enumerator.MoveNextAsync();
        await watching.Task.WaitAsync(cts.Token);

        // Other writes of "hot" are always in flight while the other instance's change of it arrives. That change itself
        // may never be reported: the bucket keeps one revision per key, so a watch skips a revision that this instance's
        // next write replaced before delivery (and this instance's own writes are not reported). What must not happen
        // is that waiting for this instance's writes in flight stalls the watch: a later change elsewhere still arrives.
        using var stopHot = new CancellationTokenSource();
        var hot = Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            while (!stopHot.IsCancellationRequested)
            {
                await mine.SetAsync("hot", [1], new DistributedCacheEntryOptions());
            }
        }));
        await other.SetAsync("hot", [2], new DistributedCacheEntryOptions());
        await Task.Delay(200);
        await other.SetAsync("cold", [3], new DistributedCacheEntryOptions());
        var seen = new List<string?>();
        var more = first;
        while (await more)
        {
            seen.Add(enumerator.Current.Key);
            if (enumerator.Current.Key == "cold")
            {
                break;
            }

            more = enumerator.MoveNextAsync();
        }

        await stopHot.CancelAsync();
        await hot;
        Assert.Equal("cold", seen[^1]);
        Assert.All(seen, key => Assert.Contains(key, new[] { "hot", "cold" }));
        await enumerator.DisposeAsync();
    }

    [Fact]
    public async Task A_suppressed_write_of_one_key_writes_nothing_and_other_keys_still_write()
    {
        await using var h = await CacheHarness.StartAsync(output);
        var cache = h.Cache();
        Task suppressed, notSuppressed;
        using (cache.SuppressWriteOf("skip"))
        {
            suppressed = cache.SetAsync("skip", [1], new DistributedCacheEntryOptions());
            notSuppressed = cache.SetAsync("write", [1], new DistributedCacheEntryOptions());
        }

        await Task.WhenAll(suppressed, notSuppressed);
        Assert.Null(await cache.GetAsync("skip"));
        Assert.NotNull(await cache.GetAsync("write"));
        await cache.SetAsync("skip", [2], new DistributedCacheEntryOptions()); // outside the scope it writes
        Assert.NotNull(await cache.GetAsync("skip"));
    }
}
