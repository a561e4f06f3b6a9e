using CacheProvider.KeyValue;
using NATS.Client.Core;

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
        await using var nc = new NatsConnection(TestNats.Options(cluster.Urls) with { RequestTimeout = TimeSpan.FromMilliseconds(500) });
        var bucket = await new KvContext(nc, new KvContextOptions { ReadRetryBudget = TimeSpan.FromSeconds(15) }).GetBucketAsync("retry");
        var noRetry = await new KvContext(nc, new KvContextOptions { ReadRetryBudget = TimeSpan.Zero }).GetBucketAsync("retry");

        foreach (var n in cluster.Nodes)
        {
            n.Pause();
        }

        try
        {
            await Assert.ThrowsAsync<KvTimeoutException>(async () => await noRetry.GetAsync("k", KvReadMode.Leader));
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
