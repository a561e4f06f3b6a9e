using System.Collections.Concurrent;
using CacheProvider.KeyValue;
using NATS.Client.Core;
using Orleans;

namespace CacheProvider.Grains.Tests.Silo;

/// <summary>A silo on a 3-node NATS cluster with an R3 state bucket while a NATS node dies under grain load.</summary>
public sealed class NatsClusterSiloTests(ITestOutputHelper output)
{
    private const int Grains = 64;

    [Fact]
    public async Task Every_acknowledged_grain_write_is_read_back_after_the_state_bucket_leader_node_is_killed_under_load()
    {
        await using var nats = await NatsCluster.StartAsync(output);
        await nats.WaitForMetaLeaderAsync(TimeSpan.FromSeconds(30));
        async Task<NatsConnection> Connect()
        {
            var connection = new NatsConnection(TestNats.Options(nats.Urls));
            await connection.ConnectAsync();
            return connection;
        }

        var (cluster, connections) = await SiloRestartTests.StartClusterAsync(Connect, "r3-" + Guid.NewGuid().ToString("N"), storage: o => o.ReadMode = KvReadMode.Leader, replicas: 3);
        try
        {
            var grains = Enumerable.Range(0, Grains).Select(i => cluster.Client.GetGrain<INoteGrain>($"g{i}")).ToArray();
            foreach (var grain in grains)
            {
                await grain.Write("start");
            }

            var acked = new ConcurrentDictionary<int, StateView>();
            var failures = 0;
            using var stop = new CancellationTokenSource();
            var workers = Enumerable.Range(0, Grains).Select(i => Task.Run(async () =>
            {
                var n = 0;
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        var view = await grains[i].Write($"g{i}-{n++}");
                        acked[i] = view;
                    }
                    catch (Exception)
                    {
                        Interlocked.Increment(ref failures);
                        await Task.Delay(50);
                    }
                }
            })).ToList();

            await Task.Delay(TimeSpan.FromSeconds(2));
            var leader = await nats.GetStreamLeaderAsync("KV_" + SiloFixture.StateBucket);
            await nats.KillAsync(leader);
            output.WriteLine($"killed {nats.Names[leader]}");
            await nats.GetStreamLeaderAsync("KV_" + SiloFixture.StateBucket);
            await Task.Delay(TimeSpan.FromSeconds(3));
            await stop.CancelAsync();
            await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(120));
            output.WriteLine($"acknowledged {acked.Count} grains, {failures} failed writes");
            Assert.Equal(Grains, acked.Count);

            var storage = new NatsGrainStorage("check", new NatsGrainStorageOptions { ServiceId = cluster.Options.ServiceId, Bucket = SiloFixture.StateBucket, Storage = KvStorage.Memory, Replicas = 3, ReadMode = KvReadMode.Leader }, connections[0]);
            for (var i = 0; i < Grains; i++)
            {
                var state = new GrainState<NoteState>();
                await storage.ReadStateAsync("note", grains[i].GetGrainId(), state);
                var last = acked[i];
                Assert.True(state.RecordExists, $"g{i} lost");
                Assert.True(ulong.Parse(state.ETag!) >= ulong.Parse(last.ETag!), $"g{i}: read revision {state.ETag} older than acknowledged {last.ETag}");
                if (state.ETag == last.ETag)
                {
                    Assert.Equal(last.Value, state.State?.Value);
                }
            }
        }
        finally
        {
            await SiloRestartTests.StopClusterAsync(cluster, connections);
        }
    }
}
