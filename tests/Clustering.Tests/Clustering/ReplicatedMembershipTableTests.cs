using System.Globalization;
using CacheProvider.Clustering.Tests.Support;
using CacheProvider.Grains;
using NATS.Client.Core;
using Orleans;
using Orleans.Runtime;

namespace CacheProvider.Clustering.Tests.Clustering;

/// <summary>
/// The membership table on an R3 bucket of a 3-node NATS cluster, each table on a connection to a different node (so
/// direct reads are answered by different replicas), under churn and stream leader stepdowns; and the grain directory
/// on the same kind of bucket.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class ReplicatedMembershipTableTests(ITestOutputHelper output)
{
    private const string Bucket = "orleans-r3";

    [Fact]
    public async Task Churn_across_replicas_and_leader_stepdowns_loses_no_write_and_never_shows_a_torn_table()
    {
        await using var cluster = await NatsCluster.StartAsync(output);
        await cluster.WaitForMetaLeaderAsync(TimeSpan.FromSeconds(30));
        var connections = new List<NatsConnection>();
        foreach (var node in cluster.Nodes)
        {
            connections.Add(await TestNats.ConnectAsync(node.Url));
        }

        try
        {
            var clusterId = "r3-" + Guid.NewGuid().ToString("N");
            var tables = connections.Select(c => Rows.NewTable(c, Bucket, clusterId, replicas: 3)).ToList();
            await tables[0].InitializeMembershipTableAsync(true);
            foreach (var table in tables)
            {
                await table.InitializeMembershipTableAsync(true);
            }

            // Concurrent inserts of one row through all three nodes: exactly one wins (losers may see 10071 or 10164).
            var contested = Rows.New();
            contested.HostName = "1";
            var version = (await tables[0].ReadAllAsync()).Version.Next();
            var inserts = await Task.WhenAll(Enumerable.Range(0, 21).Select(i => Task.Run(() => tables[i % 3].InsertRowAsync(contested, version))));
            Assert.Single(inserts, won => won);

            var succeeded = 1;
            var unknown = 0;
            using var stop = new CancellationTokenSource();
            var workers = tables.Select((table, w) => Task.Run(async () =>
            {
                var row = Rows.New();
                while (true)
                {
                    var data = await table.ReadAllAsync();
                    var next = data.Version.Next();
                    row.HostName = next.Version.ToString(CultureInfo.InvariantCulture);
                    if (await table.InsertRowAsync(row, next))
                    {
                        Interlocked.Increment(ref succeeded);
                        break;
                    }
                }

                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    try
                    {
                        var data = await table.ReadAllAsync();
                        var newest = data.Members.Max(m => int.Parse(m.Item1.HostName, CultureInfo.InvariantCulture));
                        Assert.Equal(data.Version.Version, newest);
                        var (current, etag) = data.Members.Single(m => m.Item1.SiloAddress.Equals(row.SiloAddress));
                        var next = data.Version.Next();
                        current.HostName = next.Version.ToString(CultureInfo.InvariantCulture);
                        current.Status = i % 2 == 0 ? SiloStatus.Active : SiloStatus.Joining;
                        if (await table.UpdateRowAsync(current, etag, next))
                        {
                            Interlocked.Increment(ref succeeded);
                        }

                        await table.UpdateIAmAliveAsync(new MembershipEntry { SiloAddress = row.SiloAddress, IAmAliveTime = DateTime.UtcNow });
                    }
                    catch (NatsClusteringException ex)
                    {
                        // An unknown outcome (or a write refused during the election) is reported, never a false "false".
                        output.WriteLine($"worker {w}: {ex.Message}");
                        Interlocked.Increment(ref unknown);
                    }
                }
            })).ToList();

            for (var i = 0; i < 2; i++)
            {
                await Task.Delay(1500);
                var reply = await connections[0].RequestAsync<byte[], byte[]>($"$JS.API.STREAM.LEADER.STEPDOWN.KV_{Bucket}", []);
                output.WriteLine("stepdown: " + System.Text.Encoding.UTF8.GetString(reply.Data ?? []));
            }

            await Task.Delay(1500);
            await stop.CancelAsync();
            await Task.WhenAll(workers);

            var final = await tables[0].ReadAllAsync();
            output.WriteLine($"version {final.Version.Version}, {succeeded} successful writes, {unknown} failures");
            Assert.True(succeeded > 10, "the workers made progress");
            Assert.InRange(final.Version.Version, succeeded, succeeded + unknown);
            Assert.Equal(4, final.Members.Count);
            foreach (var table in tables)
            {
                Assert.Equal(final.Version, (await table.ReadAllAsync()).Version);
            }
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Directory_registrations_through_three_replicas_across_a_stepdown_agree_on_one_activation_per_grain()
    {
        await using var cluster = await NatsCluster.StartAsync(output);
        await cluster.WaitForMetaLeaderAsync(TimeSpan.FromSeconds(30));
        var connections = new List<NatsConnection>();
        foreach (var node in cluster.Nodes)
        {
            connections.Add(await TestNats.ConnectAsync(node.Url));
        }

        try
        {
            var clusterOptions = new Orleans.Configuration.ClusterOptions { ServiceId = "svc", ClusterId = "dir-r3" };
            var directories = connections.Select(c => new NatsGrainDirectory("default", new NatsGrainDirectoryOptions { Bucket = Bucket, Replicas = 3 }, clusterOptions, c)).ToList();
            await directories[0].StartAsync(CancellationToken.None);

            var grains = Enumerable.Range(0, 40).Select(i => GrainId.Create("r3", "g" + i)).ToList();
            var silo = SiloAddress.New(System.Net.IPAddress.Loopback, 11111, 1);
            var stepdown = Task.Run(async () =>
            {
                await Task.Delay(300);
                await connections[0].RequestAsync<byte[], byte[]>($"$JS.API.STREAM.LEADER.STEPDOWN.KV_{Bucket}", []);
            });
            var results = await Task.WhenAll(grains.SelectMany(g => directories.Select(d => Task.Run(async () =>
            {
                var candidate = new GrainAddress { GrainId = g, ActivationId = ActivationId.NewId(), SiloAddress = silo };
                while (true)
                {
                    try
                    {
                        return await d.Register(candidate, null);
                    }
                    catch (NatsClusteringException ex)
                    {
                        output.WriteLine(ex.Message); // the election: try again, as the runtime would
                    }
                }
            }))));
            await stepdown;

            foreach (var group in results.GroupBy(r => r!.GrainId))
            {
                var winner = Assert.Single(group.Distinct());
                foreach (var directory in directories)
                {
                    // A lookup is one direct get from any replica: one that has not applied the last write yet catches up.
                    var deadline = DateTime.UtcNow.AddSeconds(10);
                    GrainAddress? seen;
                    while (!Equals(seen = await directory.Lookup(group.Key), winner) && DateTime.UtcNow < deadline)
                    {
                        await Task.Delay(50);
                    }

                    Assert.Equal(winner, seen);
                }
            }
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }
}
