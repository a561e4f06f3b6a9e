using CacheProvider.KeyValue;
using static CacheProvider.KeyValue.Tests.KvTest;

namespace CacheProvider.KeyValue.Tests;

public sealed class KvWatchTests(ITestOutputHelper output)
{
    private static readonly KvWatchOptions Fast = new() { IdleHeartbeat = TimeSpan.FromMilliseconds(500) };

    [Fact]
    public async Task Watch_delivers_the_latest_value_per_key_then_live_changes_with_counting_down_delta()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        await bucket.PutAsync("a", Bytes("a1"));
        await bucket.PutAsync("b", Bytes("b1"));
        await bucket.PutAsync("a", Bytes("a2"));
        await using var w = new WatchCollector(bucket, ">", Fast);
        var initial = await w.TakeAsync(2);
        Assert.Equal(["b1", "a2"], initial.Select(Text));
        Assert.Equal([1UL, 0UL], initial.Select(e => e.Delta));

        var rev = await bucket.PutAsync("c", Bytes("c1"), TimeSpan.FromSeconds(30));
        var live = await w.NextAsync();
        Assert.Equal(("c", rev, "c1", TimeSpan.FromSeconds(30)), (live.Key, live.Revision, Text(live), live.Ttl!.Value));
    }

    [Fact]
    public async Task Watch_with_several_key_filters_sees_only_matching_keys()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        await using var w = new WatchCollector(bucket, ["user.*", "order.>"], Fast with { UpdatesOnly = true });
        await Task.Delay(200);
        await bucket.PutAsync("user.1", Bytes("u"));
        await bucket.PutAsync("user.1.deep", Bytes("no"));
        await bucket.PutAsync("other", Bytes("no"));
        await bucket.PutAsync("order.7.line.1", Bytes("o"));
        Assert.Equal(["user.1", "order.7.line.1"], (await w.TakeAsync(2)).Select(e => e.Key));
        await w.AssertQuietAsync(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task Include_history_delivers_every_kept_revision_while_default_delivers_only_the_latest()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.Kv.CreateBucketAsync(new KvBucketConfig { Bucket = "hist", History = 5 });
        for (var i = 0; i < 3; i++)
        {
            await bucket.PutAsync("k", Bytes($"v{i}"));
        }

        await using var all = new WatchCollector(bucket, "k", Fast with { IncludeHistory = true });
        Assert.Equal(["v0", "v1", "v2"], (await all.TakeAsync(3)).Select(Text));
        await using var latest = new WatchCollector(bucket, "k", Fast);
        Assert.Equal("v2", Text(await latest.NextAsync()));
        await latest.AssertQuietAsync(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task Updates_only_skips_existing_values()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        await bucket.PutAsync("old", Bytes("x"));
        await using var w = new WatchCollector(bucket, ">", Fast with { UpdatesOnly = true });
        await Task.Delay(200);
        await bucket.PutAsync("new", Bytes("y"));
        Assert.Equal("new", (await w.NextAsync()).Key);
    }

    [Fact]
    public async Task Headers_only_watch_sets_value_length_but_leaves_value_empty()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        await bucket.PutAsync("big", new byte[5000], TimeSpan.FromSeconds(30));
        await using var w = new WatchCollector(bucket, ">", Fast with { HeadersOnly = true });
        var e = await w.NextAsync();
        Assert.Equal(5000, e.ValueLength);
        Assert.True(e.Value.IsEmpty);
        Assert.Equal(TimeSpan.FromSeconds(30), e.Ttl);
        Assert.True(e.IsValue);
    }

    [Fact]
    public async Task Resume_after_revision_delivers_only_later_revisions_in_order()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        var revs = new List<ulong>();
        for (var i = 0; i < 6; i++)
        {
            revs.Add(await bucket.PutAsync($"k{i}", Bytes($"v{i}")));
        }

        await using var w = new WatchCollector(bucket, ">", Fast with { ResumeAfterRevision = revs[2] });
        Assert.Equal(revs.Skip(3), (await w.TakeAsync(3)).Select(e => e.Revision));
        await w.AssertQuietAsync(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task Ignore_deletes_hides_tombstones_and_markers()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync(markerTtl: TimeSpan.FromSeconds(2));
        await using var w = new WatchCollector(bucket, ">", Fast with { UpdatesOnly = true, IgnoreDeletes = true });
        await Task.Delay(200);
        await bucket.PutAsync("a", Bytes("1"));
        await bucket.DeleteAsync("a");
        await bucket.PutAsync("b", Bytes("2"), TimeSpan.FromSeconds(1));
        await bucket.PurgeAsync("c");
        await Task.Delay(1500); // b's marker is written meanwhile
        await bucket.PutAsync("z", Bytes("last"));
        Assert.Equal(["a", "b", "z"], (await w.TakeAsync(3)).Select(e => e.Key));
        await w.AssertQuietAsync(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task Watch_surfaces_delete_purge_and_expiry_marker_with_reason_expired()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync(markerTtl: TimeSpan.FromSeconds(2));
        await using var w = new WatchCollector(bucket, ">", Fast with { UpdatesOnly = true });
        await Task.Delay(200);
        await bucket.PutAsync("d", Bytes("1"));
        await bucket.DeleteAsync("d");
        await bucket.PurgeAsync("p", TimeSpan.FromSeconds(1));
        var put = await bucket.PutAsync("t", Bytes("v"), TimeSpan.FromSeconds(1));
        var seen = await w.TakeAsync(5);
        Assert.Equal([KvOperation.Put, KvOperation.Delete, KvOperation.Purge, KvOperation.Put, KvOperation.Purge], seen.Select(e => e.Operation));
        var marker = seen[^1];
        Assert.Equal("t", marker.Key);
        Assert.Equal(KvMarkerReason.Expired, marker.MarkerReason);
        Assert.True(marker.Revision > put);
        Assert.Equal(TimeSpan.FromSeconds(2), marker.Ttl);
        Assert.False(marker.IsValue);
        Assert.All(seen.Take(4), e => Assert.Equal(KvMarkerReason.None, e.MarkerReason));

        // Neither the expiry of the purge tombstone nor of the marker is delivered.
        await w.AssertQuietAsync(TimeSpan.FromSeconds(2.5));
    }

    [Fact]
    public async Task Watch_survives_kill_9_and_restart_seeing_every_revision_once_in_order_and_reports_resync()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        var written = new List<ulong>();

        // Default heartbeat (5 s): the reconnect, not heartbeat silence, must trigger the resync.
        await using var w = new WatchCollector(bucket, ">", new KvWatchOptions { UpdatesOnly = true });
        await Task.Delay(200);
        for (var i = 0; i < 10; i++)
        {
            written.Add(await bucket.PutAsync($"before.{i}", Bytes($"{i}")));
        }

        var seen = await w.TakeAsync(5); // the rest is still on its way or lost with the server
        await h.Server.KillAsync();
        await h.Server.StartAgainAsync();
        for (var i = 0; i < 10; i++)
        {
            written.Add(await RetryAsync(() => bucket.PutAsync($"after.{i}", Bytes($"{i}"))));
        }

        seen.AddRange(await w.TakeAsync(15, TimeSpan.FromSeconds(15)));
        Assert.Equal(written, seen.Select(e => e.Revision));
        await w.AssertQuietAsync(TimeSpan.FromMilliseconds(300));
        Assert.True(w.Resyncs >= 1, "OnResync was not called");
    }

    [Fact]
    public async Task Updates_only_watch_that_saw_nothing_before_a_restart_still_sees_the_first_change_after_it()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        await bucket.PutAsync("old", Bytes("x"));
        await using var w = new WatchCollector(bucket, ">", new KvWatchOptions { UpdatesOnly = true });
        await Task.Delay(200);
        await h.Server.KillAsync();
        await h.Server.StartAgainAsync();
        var rev = await RetryAsync(() => bucket.PutAsync("new", Bytes("y")));
        var e = await w.NextAsync(TimeSpan.FromSeconds(12));
        Assert.Equal(("new", rev), (e.Key, e.Revision));
        await w.AssertQuietAsync(TimeSpan.FromMilliseconds(300));
    }

    /// <summary>Right after a restart the first requests may race the reconnect: retry those, nothing else.</summary>
    internal static async Task<T> RetryAsync<T>(Func<ValueTask<T>> op)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            try
            {
                return await op();
            }
            catch (NatsException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }
}
