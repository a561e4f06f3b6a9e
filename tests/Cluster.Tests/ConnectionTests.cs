using CacheProvider.Nats;
using CacheProvider.Nats.JetStream;

namespace CacheProvider.Cluster.Tests;

public sealed class ConnectionTests(ITestOutputHelper output)
{
    [Fact]
    public async Task One_seed_is_enough_the_others_come_from_INFO_and_the_client_fails_over_when_its_node_dies()
    {
        await using var cluster = await NatsCluster.StartAsync(output);
        await using var nc = ClusterTest.Connect(cluster, cluster.Nodes[0].Url);
        await nc.ConnectAsync();
        Assert.Equal(cluster.Names[0], nc.ServerInfo!.ServerName);

        // Routes come up asynchronously: the server sends an updated INFO once they do.
        var others = cluster.Nodes.Skip(1).Select(n => $"127.0.0.1:{n.Port}").ToList();
        await ClusterTest.EventuallyAsync(
            () => Task.FromResult(others.All(o => nc.ServerInfo?.ConnectUrls?.Contains(o) == true)),
            "connect_urls listing the other nodes");

        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        nc.Reconnected += (_, _) => reconnected.TrySetResult();
        await cluster.KillAsync(0);
        await reconnected.Task.WaitAsync(ClusterTest.Patience);
        Assert.NotEqual(cluster.Names[0], nc.ServerInfo!.ServerName);
        Assert.Contains(nc.ServerInfo.ServerName, cluster.Names);

        // The new server answers requests, JetStream included (the meta group keeps quorum with two of three).
        var js = new JetStreamContext(nc) { ReadRetryBudget = ClusterTest.Patience }; // node 0 may have been the meta leader
        var info = await js.GetApiInfoAsync();
        Assert.True(info.Api.Level >= 1);
        await cluster.StartAgainAsync(0);
    }
}
