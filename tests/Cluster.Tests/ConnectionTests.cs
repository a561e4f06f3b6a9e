using CacheProvider.KeyValue;
using NATS.Client.Core;

namespace CacheProvider.Cluster.Tests;

public sealed class ConnectionTests(ITestOutputHelper output)
{
    [Fact]
    public async Task One_seed_is_enough_the_others_come_from_INFO_and_the_client_fails_over_when_its_node_dies()
    {
        await using var cluster = await NatsCluster.StartAsync(output);
        await using var nc = ClusterTest.Connect(cluster, cluster.Nodes[0].Url);
        await nc.ConnectAsync();
        Assert.Equal(cluster.Names[0], nc.ServerInfo!.Name);

        // Routes come up asynchronously: the server sends an updated INFO once they do.
        var others = cluster.Nodes.Skip(1).Select(n => $"127.0.0.1:{n.Port}").ToList();
        await ClusterTest.EventuallyAsync(
            () => Task.FromResult(others.All(o => nc.ServerInfo?.ClientConnectUrls?.Contains(o) == true)),
            "connect_urls listing the other nodes");

        // NATS.Net has no Reconnected event: a reconnect is a ConnectionDisconnected followed by a ConnectionOpened.
        var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        nc.ConnectionDisconnected += (_, _) =>
        {
            disconnected.TrySetResult();
            return default;
        };
        nc.ConnectionOpened += (_, _) =>
        {
            if (disconnected.Task.IsCompleted)
            {
                reconnected.TrySetResult();
            }

            return default;
        };
        await cluster.KillAsync(0);
        await reconnected.Task.WaitAsync(ClusterTest.Patience);
        Assert.Equal(NatsConnectionState.Open, nc.ConnectionState);
        Assert.NotEqual(cluster.Names[0], nc.ServerInfo!.Name);
        Assert.Contains(nc.ServerInfo.Name, cluster.Names);

        // The new server answers requests, JetStream included (the meta group keeps quorum with two of three).
        // Node 0 may have been the meta leader: account info fails until a new one is elected.
        var js = new KvContext(nc).JetStream;
        NATS.Client.JetStream.Models.AccountInfoResponse? info = null;
        await ClusterTest.EventuallyAsync(async () =>
        {
            try
            {
                info = await js.GetAccountInfoAsync();
                return true;
            }
            catch (NatsException)
            {
                return false;
            }
        }, "JetStream account info from the new server");
        Assert.True(info!.Api.Level >= 1);
        await cluster.StartAgainAsync(0);
    }
}
