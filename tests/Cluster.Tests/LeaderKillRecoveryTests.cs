using System.Collections.Concurrent;
using System.Diagnostics;
using CacheProvider.KeyValue;
using NATS.Client.Core;

namespace CacheProvider.Cluster.Tests;

/// <summary>
/// Issue #24 on a 3-node cluster: an R3 bucket's leader is killed (SIGKILL) under 32 writers. The connection to another
/// node stays up, so no disconnect says anything; the server's leader-elected advisory ends the requests the dead
/// leader will never answer, they are resent to the new leader (compare-and-set, message id) and stored once, and the
/// watch moves to the new leader. First acknowledged write ≤ 2 s after the election (measured from the moment a node
/// reports itself leader, polled every 100 ms).
/// </summary>
public sealed class LeaderKillRecoveryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Writes_resume_within_two_seconds_of_the_new_leaders_election_and_none_is_lost_or_fails()
    {
        await using var cluster = await NatsCluster.StartAsync(output);
        await using var nc = ClusterTest.Connect(cluster);
        await nc.ConnectAsync();
        var bucket = await new KvContext(nc).CreateBucketAsync(new KvBucketConfig { Bucket = "rec", Replicas = 3 });
        await bucket.PutAsync("warm", ClusterTest.Bytes("0"));
        var watched = new ConcurrentQueue<(string Key, ulong Revision)>();
        using var stopWatch = new CancellationTokenSource();
        var watcher = await bucket.StartWatchAsync([">"], new KvWatchOptions { UpdatesOnly = true });
        var watching = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in watcher.ReadAllAsync(stopWatch.Token))
                {
                    watched.Enqueue((e.Key, e.Revision));
                }
            }
            catch (OperationCanceledException)
            {
            }
        });

        const int Writers = 32;
        var clock = Stopwatch.StartNew();
        var acked = new ConcurrentDictionary<string, (ulong Revision, string Value)>();
        var errors = new ConcurrentQueue<Exception>();
        var electedAt = long.MaxValue;
        long firstAfterElection = 0;
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            var key = $"k{w}";
            ulong revision = 0;
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var value = $"{w}:{n}";
                try
                {
                    revision = w % 2 == 0
                        ? await bucket.UpdateAsync(key, ClusterTest.Bytes(value), revision)
                        : await bucket.PutAsync(key, new System.Buffers.ReadOnlySequence<byte>(ClusterTest.Bytes(value)), new KvPutOptions { MsgId = $"{w}-{n}" });
                }
                catch (NatsException ex)
                {
                    errors.Enqueue(ex);
                    await Task.Delay(50);
                    try
                    {
                        revision = (await bucket.GetLastAsync(key, KvReadMode.Leader))?.Revision ?? 0;
                    }
                    catch (NatsException)
                    {
                    }

                    continue;
                }

                acked[key] = (revision, value);
                if (clock.ElapsedTicks > Interlocked.Read(ref electedAt))
                {
                    Interlocked.CompareExchange(ref firstAfterElection, clock.ElapsedTicks, 0);
                }
            }
        })).ToArray();

        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var leader = await cluster.GetStreamLeaderAsync("KV_rec");
        var killedAt = clock.ElapsedTicks;
        await cluster.KillAsync(leader);
        var newLeader = await cluster.GetStreamLeaderAsync("KV_rec");
        Interlocked.Exchange(ref electedAt, clock.ElapsedTicks);
        await ClusterTest.EventuallyAsync(() => Task.FromResult(Interlocked.Read(ref firstAfterElection) != 0), "a write acknowledged after the election");
        var probe = await bucket.PutAsync("probe", ClusterTest.Bytes("p"));
        await ClusterTest.EventuallyAsync(() => Task.FromResult(watched.Any(e => e.Key == "probe" && e.Revision == probe)), "the watch sees a write made after the election");
        var probeSeen = clock.ElapsedTicks;
        await stop.CancelAsync();
        await Task.WhenAll(writers).WaitAsync(ClusterTest.Patience);
        await stopWatch.CancelAsync();
        await watching.WaitAsync(ClusterTest.Patience);
        await watcher.DisposeAsync();

        double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        var first = Ms(firstAfterElection - electedAt);
        output.WriteLine($"leader {cluster.Names[leader]} killed; {cluster.Names[newLeader]} elected after {Ms(electedAt - killedAt):F0} ms; first write acknowledged {first:F0} ms after the election; watch saw a new write {Ms(probeSeen - electedAt):F0} ms after it; {errors.Count} errors: {string.Join("; ", errors.Take(3).Select(e => e.GetType().Name + ": " + e.Message))}");
        Assert.Empty(errors);
        Assert.True(first <= 2000, $"first write acknowledged {first:F0} ms after the election");
        foreach (var (key, (revision, value)) in acked)
        {
            var e = await bucket.GetLastAsync(key, KvReadMode.Leader);
            Assert.Equal((revision, value), (e!.Revision, ClusterTest.Text(e.Value)));
        }
    }
}
