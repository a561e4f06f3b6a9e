using System.Collections.Concurrent;
using CacheProvider.Caching;
using CacheProvider.KeyValue;
using CacheProvider.Leases;
using NATS.Client.Core;
using Microsoft.Extensions.Caching.Distributed;

namespace CacheProvider.Cluster.Tests;

/// <summary>Cache, near cache, leases and watches on R3 buckets while the cache bucket's leader is killed under load.</summary>
public sealed class LeaderLossUnderLoadTests(ITestOutputHelper output)
{
    private const int CacheWorkers = 56;
    private const int LeaseWorkers = 8; // 64 concurrent operations in all

    [Fact]
    public async Task Acknowledged_sets_survive_leases_stay_exclusive_watches_resume_and_ttl_markers_fire_after_the_leader_moves()
    {
        await using var cluster = await NatsCluster.StartAsync(output);
        await using var nc = ClusterTest.Connect(cluster);
        await using var cache = new NatsDistributedCache(nc, new NatsDistributedCacheOptions
        {
            Bucket = "cache", Replicas = 3, ReadFromLeader = true, NearCacheEnabled = true,

            // Markers must outlive a watch's recovery under this load: with the 2 s default, a key-event watch that
            // is recreated after the leader change can start past a marker that has already removed itself.
            LimitMarkerTtl = TimeSpan.FromSeconds(30),
        });
        var managers = Enumerable.Range(0, LeaseWorkers)
            .Select(i => new LeaseManager(nc, new LeaseOptions { Bucket = "leases", Replicas = 3, Owner = $"w{i}" }))
            .ToList();

        // Buckets exist before the clock starts; the key-event watch is live before anything expires.
        await cache.SetAsync("warmup", [1], new DistributedCacheEntryOptions());
        await (await managers[0].AcquireAsync("warmup", ClusterTest.Patience)).DisposeAsync();
        var events = new ConcurrentQueue<CacheKeyEvent>();
        using var stop = new CancellationTokenSource();
        using var stopWatch = new CancellationTokenSource();
        var watchStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var watch = Task.Run(async () =>
        {
            var enumerator = cache.WatchKeyEventsAsync(stopWatch.Token).GetAsyncEnumerator(stopWatch.Token);
            var next = enumerator.MoveNextAsync();
            watchStarted.TrySetResult();
            try
            {
                while (await next)
                {
                    events.Enqueue(enumerator.Current);
                    next = enumerator.MoveNextAsync();
                }
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                await enumerator.DisposeAsync();
            }
        });
        await watchStarted.Task;
        await Task.Delay(500);
        // Set on the old leader, due after the new one took over (elections take ≈ 4–6 s here).
        await cache.SetAsync("ttl-before", [1], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(12) });

        // Due while the bucket has no leader: reported, not asserted (see ttl-during in the output).
        await cache.SetAsync("ttl-during", [1], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(4) });

        var acknowledged = new ConcurrentDictionary<string, string>();
        long setFailures = 0, getFailures = 0, staleReads = 0, leaseFailures = 0;
        var holders = 0;
        var maxHolders = 0;
        var tokens = new List<ulong>();
        var gate = new object();

        async Task CacheWorker(int w)
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var key = $"k{w}-{n % 20}";
                var value = $"{w}:{n}";
                try
                {
                    await cache.SetAsync(key, ClusterTest.Bytes(value).ToArray(), new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(5) });
                }
                catch (NatsException)
                {
                    Interlocked.Increment(ref setFailures);
                    acknowledged.TryRemove(key, out _); // its current value is unknown now
                    continue;
                }

                acknowledged[key] = value;
                try
                {
                    var read = await cache.GetAsync(key);
                    if (read is null || ClusterTest.Text(read) != value)
                    {
                        Interlocked.Increment(ref staleReads);
                    }
                }
                catch (NatsException)
                {
                    Interlocked.Increment(ref getFailures);
                }
            }
        }

        async Task LeaseWorker(LeaseManager manager)
        {
            while (!stop.IsCancellationRequested)
            {
                Lease lease;
                try
                {
                    lease = await manager.AcquireAsync("job", ClusterTest.Patience, TimeSpan.FromSeconds(5), stop.Token);
                }
                catch (Exception ex) when (ex is NatsException or TimeoutException)
                {
                    Interlocked.Increment(ref leaseFailures);
                    await Task.Delay(50); // no responders while the bucket elects a leader: do not spin
                    continue;
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                await using (lease)
                {
                    var now = Interlocked.Increment(ref holders);
                    lock (gate)
                    {
                        maxHolders = Math.Max(maxHolders, now);
                        tokens.Add(lease.FencingToken);
                    }

                    await Task.Delay(Random.Shared.Next(1, 5));
                    Interlocked.Decrement(ref holders);
                }
            }
        }

        var workers = Enumerable.Range(0, CacheWorkers).Select(w => Task.Run(() => CacheWorker(w)))
            .Concat(managers.Select(m => Task.Run(() => LeaseWorker(m))))
            .ToList();
        await Task.Delay(TimeSpan.FromSeconds(2));
        var leader = await cluster.GetStreamLeaderAsync("KV_cache");
        var killedAt = DateTime.UtcNow;
        await cluster.KillAsync(leader);
        var newLeader = await cluster.GetStreamLeaderAsync("KV_cache");
        output.WriteLine($"KV_cache leader {cluster.Names[leader]} killed; {cluster.Names[newLeader]} elected after {(DateTime.UtcNow - killedAt).TotalMilliseconds:F0} ms");

        // Written after the leader moved: its expiry marker comes from the new leader.
        await cache.SetAsync("ttl-after", [1], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(2) });
        await cache.RemoveAsync("removed-after");
        await Task.Delay(TimeSpan.FromSeconds(3));
        await stop.CancelAsync();
        await Task.WhenAll(workers).WaitAsync(ClusterTest.Patience);

        // Every acknowledged Set is there, read from the leader.
        var missing = 0;
        foreach (var (key, value) in acknowledged)
        {
            var read = await cache.GetAsync(key);
            if (read is null || ClusterTest.Text(read) != value)
            {
                missing++;
            }
        }

        output.WriteLine($"sets acknowledged (distinct keys) {acknowledged.Count}, set failures {setFailures}, get failures {getFailures}, stale {staleReads}, missing {missing}; leases {tokens.Count}, lease failures {leaseFailures}");
        Assert.False(acknowledged.IsEmpty);
        Assert.Equal(0, missing);
        Assert.Equal(0, staleReads);

        Assert.Equal(1, maxHolders);
        Assert.True(tokens.Count > 0);
        for (var i = 1; i < tokens.Count; i++)
        {
            Assert.True(tokens[i] > tokens[i - 1], $"fencing token {tokens[i]} after {tokens[i - 1]}");
        }

        // The watch resumed across the leader change and TTL markers fired for keys written before and after it.
        var raw = await new KvContext(nc).GetBucketAsync("cache");
        await Task.Delay(TimeSpan.FromSeconds(1));
        output.WriteLine($"events so far: {string.Join(", ", events.Select(e => $"{e.Key}:{e.Reason}@{e.Revision}"))}");
        foreach (var key in new[] { "ttl-before", "ttl-after" })
        {
            var deadline = DateTime.UtcNow + ClusterTest.Patience;
            while (!events.Any(e => e.Key == key && e.Reason == CacheKeyEventReason.Expired) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }

            var last = await raw.GetLastAsync(key, KvReadMode.Leader);
            output.WriteLine($"{key}: stored last revision {last}; events {string.Join(", ", events.Where(e => e.Key == key).Select(e => $"{e.Reason}@{e.Revision}"))}");
            Assert.True(events.Any(e => e.Key == key && e.Reason == CacheKeyEventReason.Expired), $"expiry event for {key} (stored: {last})");
        }

        var during = await raw.GetLastAsync("ttl-during", KvReadMode.Leader);
        output.WriteLine($"ttl-during: stored last revision {during}; events {string.Join(", ", events.Where(e => e.Key == "ttl-during").Select(e => $"{e.Reason}@{e.Revision}"))}");
        Assert.Null(await cache.GetAsync("ttl-during"));
        await cache.RemoveAsync("removed-late");
        await ClusterTest.EventuallyAsync(() => Task.FromResult(events.Any(e => e.Key == "removed-late")), "a removal seen by the resumed watch");

        await stopWatch.CancelAsync();
        await watch.WaitAsync(ClusterTest.Patience);
        foreach (var m in managers)
        {
            await m.DisposeAsync();
        }

        await cluster.StartAgainAsync(leader);
    }
}
