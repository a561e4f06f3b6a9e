using CacheProvider.Nats;
using CacheProvider.Nats.JetStream;
using CacheProvider.Nats.KeyValue;

namespace CacheProvider.Cluster.Tests;

public sealed class ReadRetryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Reads_are_retried_through_an_outage_within_the_budget_and_fail_fast_without_one()
    {
        await using var cluster = await NatsCluster.StartAsync(output);
        await using var setup = ClusterTest.Connect(cluster);
        var created = await new KvContext(setup).CreateBucketAsync(new KvBucketConfig { Bucket = "retry", Replicas = 3 });
        await cluster.GetStreamLeaderAsync(created.StreamName); // plain writes right after create can meet a leaderless stream
        var rev = await created.PutAsync("k", ClusterTest.Bytes("v"));

        // Short request timeout, so the outage spans several attempts.
        await using var nc = new NatsConnection(new NatsOptions { Url = cluster.Urls, RequestTimeout = TimeSpan.FromMilliseconds(500) });
        var bucket = await new KvContext(new JetStreamContext(nc) { ReadRetryBudget = TimeSpan.FromSeconds(15) }).GetBucketAsync("retry");
        var noRetry = await new KvContext(new JetStreamContext(nc) { ReadRetryBudget = TimeSpan.Zero }).GetBucketAsync("retry");

        foreach (var n in cluster.Nodes)
        {
            n.Pause();
        }

        try
        {
            await Assert.ThrowsAsync<NatsTimeoutException>(async () => await noRetry.GetAsync("k", KvReadMode.Leader));
            var leader = bucket.GetAsync("k", KvReadMode.Leader).AsTask();
            var direct = bucket.GetAsync("k").AsTask();
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            Assert.False(leader.IsCompleted);
            foreach (var n in cluster.Nodes)
            {
                n.Resume();
            }

            Assert.Equal(rev, (await leader.WaitAsync(ClusterTest.Patience))!.Revision);
            Assert.Equal(rev, (await direct.WaitAsync(ClusterTest.Patience))!.Revision);
        }
        finally
        {
            foreach (var n in cluster.Nodes)
            {
                n.Resume();
            }
        }
    }
}
