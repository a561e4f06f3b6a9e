using System.Diagnostics;
using Microsoft.Extensions.Caching.Distributed;

namespace CacheProvider.Grains.Caching.Tests;

/// <summary>The front end's near cache: served from memory while its watch is live, dropped by any change.</summary>
[Collection(CacheClusterCollection.Name)]
public sealed class FrontNearCacheTests(CacheClusterFixture fixture)
{
    private static readonly DistributedCacheEntryOptions NoExpiry = new();

    private CacheCluster Cluster => fixture.Cluster;

    private static string NewKey() => "near-" + Guid.NewGuid().ToString("N");

    private Task<FrontEnd> NearFrontEndAsync(string? natsUrl = null, Action<OrleansDistributedCacheOptions>? configure = null) =>
        FrontEnd.StartAsync(Cluster, natsUrl ?? fixture.Server.Url, o =>
        {
            o.NearCacheEnabled = true;
            configure?.Invoke(o);
        });

    [Fact]
    public async Task Hits_are_served_without_a_grain_call_and_a_write_by_another_front_end_drops_the_copy()
    {
        await using var reader = await NearFrontEndAsync();
        await using var writer = await FrontEnd.StartAsync(Cluster, fixture.Server.Url);
        await reader.WaitNearCacheLiveAsync();
        var key = NewKey();
        await writer.Cache.SetAsync(key, [1], NoExpiry);

        Assert.Equal([1], await reader.Cache.GetAsync(key));
        var calls = reader.Calls.Count;
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal([1], await reader.Cache.GetAsync(key));
        }

        Assert.Equal(calls, reader.Calls.Count);
        Assert.True(reader.Cache.NearCacheCount >= 1);

        // Each reader gets its own array: changing it changes nothing for the next one.
        (await reader.Cache.GetAsync(key))![0] = 99;
        Assert.Equal([1], await reader.Cache.GetAsync(key));

        await writer.Cache.SetAsync(key, [2], NoExpiry);
        Assert.True(await Eventually.HoldsAsync(async () => (await reader.Cache.GetAsync(key))![0] == 2), "the reader kept serving its copy after another front end's write");
        Assert.True(reader.Calls.Count > calls);
    }

    [Fact]
    public async Task Removal_by_another_front_end_drops_the_copy_and_the_own_writes_are_read_back_at_once()
    {
        await using var reader = await NearFrontEndAsync();
        await using var writer = await FrontEnd.StartAsync(Cluster, fixture.Server.Url);
        await reader.WaitNearCacheLiveAsync();
        var key = NewKey();
        await reader.Cache.SetAsync(key, [1], NoExpiry);
        Assert.Equal([1], await reader.Cache.GetAsync(key));
        Assert.Equal([1], await reader.Cache.GetAsync(key));

        // Own write and removal: the very next read sees them.
        await reader.Cache.SetAsync(key, [3], NoExpiry);
        Assert.Equal([3], await reader.Cache.GetAsync(key));
        await reader.Cache.RemoveAsync(key);
        Assert.Null(await reader.Cache.GetAsync(key));

        await reader.Cache.SetAsync(key, [4], NoExpiry);
        Assert.Equal([4], await reader.Cache.GetAsync(key));
        await writer.Cache.RemoveAsync(key);
        Assert.True(await Eventually.HoldsAsync(async () => await reader.Cache.GetAsync(key) is null), "the reader kept serving a removed entry");
    }

    [Fact]
    public async Task A_copy_is_never_served_past_the_entrys_absolute_expiration()
    {
        await using var reader = await NearFrontEndAsync();
        await reader.WaitNearCacheLiveAsync();
        var key = NewKey();
        var deadline = DateTimeOffset.UtcNow.AddSeconds(2);
        await reader.Cache.SetAsync(key, [1], new DistributedCacheEntryOptions { AbsoluteExpiration = deadline });

        var hits = 0;
        while (true)
        {
            var started = DateTimeOffset.UtcNow;
            var value = await reader.Cache.GetAsync(key);
            if (value is null)
            {
                break;
            }

            hits++;
            Assert.True(started < deadline, $"a read started {(started - deadline).TotalMilliseconds:F0} ms after the deadline returned the value");
            Assert.True(DateTimeOffset.UtcNow < deadline + Eventually.Patience, "the entry never expired");
            await Task.Delay(20);
        }

        Assert.True(hits > 1);
        Assert.True(DateTimeOffset.UtcNow >= deadline, "read as missing before its absolute expiration");
    }

    [Fact]
    public async Task Near_hits_on_a_sliding_entry_keep_it_alive_with_few_grain_calls_and_it_expires_a_window_after_the_last_hit()
    {
        await using var reader = await NearFrontEndAsync();
        await reader.WaitNearCacheLiveAsync();
        var key = NewKey();
        var window = TimeSpan.FromSeconds(3);
        await reader.Cache.SetAsync(key, [7], new DistributedCacheEntryOptions { SlidingExpiration = window });

        // Read for more than two windows: every read finds it, and most reads are near hits.
        var calls = reader.Calls.Count;
        var reads = 0;
        var lastRead = Stopwatch.StartNew();
        var until = DateTime.UtcNow + window * 2.5;
        while (DateTime.UtcNow < until)
        {
            Assert.Equal([7], await reader.Cache.GetAsync(key));
            lastRead.Restart();
            reads++;
            await Task.Delay(50);
        }

        var grainCalls = reader.Calls.Count - calls;
        Assert.True(grainCalls * 2 < reads, $"{grainCalls} grain calls for {reads} reads");

        // Unread, it leaves KV (the server's marker), but never less than a window after the last read, near hit or not.
        var bucket = await Cluster.BucketAsync();
        var kvKey = Cluster.KvKeyOf(key);
        Assert.True(await Eventually.HoldsAsync(async () => await bucket.GetAsync(kvKey) is null), "the sliding entry stayed in KV after reads stopped");
        Assert.True(lastRead.Elapsed >= window, $"expired {lastRead.Elapsed.TotalMilliseconds:F0} ms after the last read, less than a window");
        Assert.True(await Eventually.HoldsAsync(async () => await reader.Cache.GetAsync(key) is null));
    }

    [Fact]
    public async Task Refresh_of_a_held_copy_makes_no_grain_call()
    {
        await using var reader = await NearFrontEndAsync();
        await reader.WaitNearCacheLiveAsync();
        var key = NewKey();
        await reader.Cache.SetAsync(key, [1], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(5) });
        Assert.Equal([1], await reader.Cache.GetAsync(key));
        var calls = reader.Calls.Count;
        await reader.Cache.RefreshAsync(key);
        Assert.Equal(calls, reader.Calls.Count);

        // Without a copy, Refresh asks the grain.
        await reader.Cache.RefreshAsync(NewKey());
        Assert.Equal(calls + 1, reader.Calls.Count);
    }

    [Fact]
    public async Task A_read_that_raced_a_newer_write_never_keeps_its_stale_copy()
    {
        await using var reader = await NearFrontEndAsync();
        await using var writer = await FrontEnd.StartAsync(Cluster, fixture.Server.Url);
        await reader.WaitNearCacheLiveAsync();
        var key = NewKey();
        var kvKey = Cluster.KvKeyOf(key);
        await writer.Cache.SetAsync(key, [1], NoExpiry);

        // The reader's grain call gets [1]; before its answer arrives, [2] is written and the reader's watch has seen it.
        long seenRevision = 0;
        reader.Cache.Near!.WatchProcessed += (k, revision) =>
        {
            if (k == kvKey)
            {
                Interlocked.Exchange(ref seenRevision, (long)revision);
            }
        };
        var (fetched, release) = reader.Calls.HoldNextRead(key);
        var racing = reader.Cache.GetAsync(key);
        await fetched.WaitAsync(Eventually.Patience);
        await writer.Cache.SetAsync(key, [2], NoExpiry);
        var written = (await (await Cluster.BucketAsync()).GetAsync(kvKey))!.Revision;
        Assert.True(await Eventually.HoldsAsync(() => Task.FromResult((ulong)Interlocked.Read(ref seenRevision) >= written)), "the reader's watch never saw the write");
        release.SetResult();
        Assert.Equal([1], await racing.WaitAsync(Eventually.Patience)); // it started before the write: the old value is fine

        // But the copy it offered is not kept: the next read asks the grain and sees the write.
        var calls = reader.Calls.Count;
        Assert.Equal([2], await reader.Cache.GetAsync(key));
        Assert.Equal(calls + 1, reader.Calls.Count);
        Assert.Equal([2], await reader.Cache.GetAsync(key));
    }

    [Fact]
    public async Task A_disconnect_flushes_the_copies_and_reads_meanwhile_never_see_an_older_value()
    {
        await using var proxy = new FaultProxy(fixture.Server.Port);
        await using var reader = await NearFrontEndAsync(proxy.Url);
        await using var writer = await FrontEnd.StartAsync(Cluster, fixture.Server.Url);
        await reader.WaitNearCacheLiveAsync();
        var key = NewKey();
        await writer.Cache.SetAsync(key, [1], NoExpiry);
        Assert.Equal([1], await reader.Cache.GetAsync(key));
        Assert.True(reader.Cache.NearCacheCount >= 1);

        // Cut the reader's NATS connection: its watch cannot see changes, so its copies go and reads go to the grain.
        var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        reader.Connection.ConnectionDisconnected += (_, _) =>
        {
            disconnected.TrySetResult();
            return default;
        };
        proxy.CutAll();
        await disconnected.Task.WaitAsync(Eventually.Patience);
        Assert.True(await Eventually.HoldsAsync(() => Task.FromResult(reader.Cache.NearCacheCount == 0)), "the copies survived the disconnect");
        await writer.Cache.SetAsync(key, [2], NoExpiry);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal([2], await reader.Cache.GetAsync(key));
        }

        // After the reconnect the watch resumes and copies are served again.
        Assert.True(await Eventually.HoldsAsync(() => Task.FromResult(reader.Cache.NearCacheActive)), "the near cache never came back after the reconnect");
        Assert.Equal([2], await reader.Cache.GetAsync(key));
        var calls = reader.Calls.Count;
        Assert.Equal([2], await reader.Cache.GetAsync(key));
        Assert.Equal(calls, reader.Calls.Count);
    }

    [Theory]
    [InlineData("plain-Key/1")]
    [InlineData("user:42 ä.*>")]
    [InlineData("lone \uD800 surrogate")]
    public async Task Copies_of_any_key_are_dropped_by_another_front_ends_write(string suffix)
    {
        // The front end computes the KV key itself; a key it computed differently from the silo would never be dropped.
        await using var reader = await NearFrontEndAsync();
        await using var writer = await FrontEnd.StartAsync(Cluster, fixture.Server.Url);
        await reader.WaitNearCacheLiveAsync();
        var key = NewKey() + suffix;
        await writer.Cache.SetAsync(key, [1], NoExpiry);
        Assert.Equal([1], await reader.Cache.GetAsync(key));
        var calls = reader.Calls.Count;
        Assert.Equal([1], await reader.Cache.GetAsync(key));
        Assert.Equal(calls, reader.Calls.Count);

        await writer.Cache.SetAsync(key, [2], NoExpiry);
        Assert.True(await Eventually.HoldsAsync(async () => (await reader.Cache.GetAsync(key))![0] == 2), "the copy was never dropped");
    }

    [Fact]
    public async Task The_near_cache_is_bounded_and_skips_large_values()
    {
        await using var reader = await NearFrontEndAsync(configure: o =>
        {
            o.NearCacheMaxEntries = 20;
            o.NearCacheMaxValueBytes = 100;
        });
        await reader.WaitNearCacheLiveAsync();
        var prefix = NewKey();
        for (var i = 0; i < 60; i++)
        {
            await reader.Cache.SetAsync($"{prefix}-{i}", [(byte)i], NoExpiry);
            Assert.Equal([(byte)i], (await reader.Cache.GetAsync($"{prefix}-{i}"))!);
        }

        Assert.InRange(reader.Cache.NearCacheCount, 1, 20);
        var large = NewKey();
        await reader.Cache.SetAsync(large, new byte[101], NoExpiry);
        Assert.Equal(101, (await reader.Cache.GetAsync(large))!.Length);
        var calls = reader.Calls.Count;
        Assert.Equal(101, (await reader.Cache.GetAsync(large))!.Length);
        Assert.Equal(calls + 1, reader.Calls.Count);
    }
}
