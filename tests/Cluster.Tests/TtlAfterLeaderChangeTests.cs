using System.Collections.Concurrent;
using CacheProvider.KeyValue;

namespace CacheProvider.Cluster.Tests;

public sealed class TtlAfterLeaderChangeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Keys_given_a_ttl_by_the_old_leader_expire_with_markers_written_by_the_new_one()
    {
        await using var cluster = await NatsCluster.StartAsync(output);
        await using var nc = ClusterTest.Connect(cluster);
        var bucket = await new KvContext(nc).CreateBucketAsync(new KvBucketConfig { Bucket = "ttl", Replicas = 3, LimitMarkerTtl = TimeSpan.FromSeconds(30) });
        var leader = await cluster.GetStreamLeaderAsync(bucket.StreamName);
        var markers = new ConcurrentDictionary<string, KvEntry>();
        using var stop = new CancellationTokenSource();
        var watcher = await bucket.StartWatchAsync([">"], new KvWatchOptions { UpdatesOnly = true });
        var watch = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in watcher.ReadAllAsync(stop.Token))
                {
                    if (e.MarkerReason == KvMarkerReason.Expired)
                    {
                        markers[e.Key] = e;
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        });

        const int Keys = 5;
        for (var i = 0; i < Keys; i++)
        {
            await bucket.PutAsync($"k{i}", ClusterTest.Bytes("v"), TimeSpan.FromSeconds(8 + i)); // due after the election
        }

        await cluster.KillAsync(leader);
        var newLeader = await cluster.GetStreamLeaderAsync(bucket.StreamName);
        Assert.NotEqual(leader, newLeader);
        await ClusterTest.EventuallyAsync(() => Task.FromResult(markers.Count == Keys), "an expiry marker per key on the watch");
        for (var i = 0; i < Keys; i++)
        {
            var last = await bucket.GetLastAsync($"k{i}", KvReadMode.Leader);
            Assert.Equal(KvMarkerReason.Expired, last!.MarkerReason);
            Assert.Null(await bucket.GetAsync($"k{i}"));
        }

        await stop.CancelAsync();
        await watch;
        await watcher.DisposeAsync();
        await cluster.StartAgainAsync(leader);
    }
}
