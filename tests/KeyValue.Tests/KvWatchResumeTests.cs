using CacheProvider.KeyValue;
using static CacheProvider.KeyValue.Tests.KvTest;

namespace CacheProvider.KeyValue.Tests;

/// <summary>A "latest values" watch that has to recreate its consumer before it delivered its whole snapshot.</summary>
public sealed class KvWatchResumeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Latest_values_watch_resumed_mid_snapshot_delivers_no_superseded_revision()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.Kv.CreateBucketAsync(new KvBucketConfig { Bucket = "hist", History = 5 });
        await bucket.PutAsync("first", Bytes("f1"));                // rev 1
        await bucket.PutAsync("k", Bytes("k1"));                    // rev 2: superseded
        await bucket.PutAsync("k", Bytes("k2"));                    // rev 3: superseded
        await bucket.DeleteAsync("gone");                           // rev 4: superseded by the put below
        await bucket.PutAsync("gone", Bytes("back"));               // rev 5
        var kLast = await bucket.PutAsync("k", Bytes("k3"));        // rev 6
        var resyncs = 0;
        await using var watcher = await bucket.StartWatchAsync([">"], new KvWatchOptions
        {
            IdleHeartbeat = TimeSpan.FromMilliseconds(500),
            OnResync = _ => Interlocked.Increment(ref resyncs),
        });
        Assert.Equal(3UL, watcher.InitialPending);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var e = watcher.ReadAllAsync(cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.True(await e.MoveNextAsync());
        var got = new List<KvEntry> { e.Current };

        // The rest of the snapshot has to come from a recreated consumer.
        await RestartServerAsync(h);
        while (got[^1].Revision < kLast)
        {
            Assert.True(await e.MoveNextAsync(), "watch ended");
            got.Add(e.Current);
        }

        output.WriteLine(string.Join(", ", got.Select(x => $"{x.Key}@{x.Revision}:{x.Operation}")));
        Assert.True(Volatile.Read(ref resyncs) >= 1, "the consumer was not recreated");
        Assert.Equal([("first", 1UL, "f1"), ("gone", 5UL, "back"), ("k", 6UL, "k3")], got.Select(x => (x.Key, x.Revision, Text(x))));

        // Live changes after the snapshot still arrive, in order.
        var next = await bucket.PutAsync("k", Bytes("k4"));
        Assert.True(await e.MoveNextAsync());
        Assert.Equal(("k", next), (e.Current.Key, e.Current.Revision));
    }

    [Fact]
    public async Task Latest_values_watch_never_goes_back_in_revision_for_a_key_across_repeated_restarts()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.Kv.CreateBucketAsync(new KvBucketConfig { Bucket = "hist", History = 10 });
        var latest = new Dictionary<string, ulong>();
        // Keys k9-k11 are last written in round 0, k0-k2 in round 3: the snapshot starts with keys whose
        // superseded revisions lie after the first delivered one.
        for (var round = 0; round < 4; round++)
        {
            for (var i = 0; i < 12 - (3 * round); i++)
            {
                latest[$"k{i}"] = await bucket.PutAsync($"k{i}", Bytes($"{round}.{i}"));
            }
        }

        var top = latest.Values.Max();
        await using var watcher = await bucket.StartWatchAsync([">"], new KvWatchOptions { IdleHeartbeat = TimeSpan.FromMilliseconds(500) });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await using var e = watcher.ReadAllAsync(cts.Token).GetAsyncEnumerator(cts.Token);
        var delivered = new Dictionary<string, ulong>();
        var restarts = 0;
        while (!delivered.TryGetValue(latest.MaxBy(kv => kv.Value).Key, out var r) || r < top)
        {
            Assert.True(await e.MoveNextAsync(), "watch ended");
            var x = e.Current;
            if (delivered.TryGetValue(x.Key, out var before))
            {
                Assert.True(x.Revision > before, $"{x.Key}: revision {x.Revision} after {before}");
            }

            delivered[x.Key] = x.Revision;
            Assert.Equal(latest[x.Key], x.Revision);
            if (restarts < 3 && delivered.Count % 3 == 1)
            {
                restarts++;
                await RestartServerAsync(h);
            }
        }

        Assert.Equal(latest.Count, delivered.Count);
    }

    /// <summary>
    /// Kills and restarts the server and returns once the connection raised <c>Reconnected</c>. Handlers run in the
    /// order they were added, so the watch (added earlier) has flagged its recreation by then; otherwise it could go
    /// on reading what its old subscription had already buffered and never recreate its consumer.
    /// </summary>
    private static async Task RestartServerAsync(KvHarness h)
    {
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ValueTask OnReconnected(object? sender, NatsEventArgs e)
        {
            reconnected.TrySetResult();
            return default;
        }

        h.Connection.ConnectionOpened += OnReconnected;
        try
        {
            await h.Server.KillAsync();
            await h.Server.StartAgainAsync();
            await reconnected.Task.WaitAsync(Patience);
        }
        finally
        {
            h.Connection.ConnectionOpened -= OnReconnected;
        }
    }
}
