using CacheProvider.Clustering.Tests.Support;
using CacheProvider.Connection;
using CacheProvider.Grains;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.GrainDirectory;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace CacheProvider.Clustering.Tests.Silo;

/// <summary>Silos and a client set up in code (<c>UseNatsClustering</c>, <c>UseNatsGrainDirectoryAsDefault</c>): a silo that leaves is marked dead and its grains move.</summary>
public sealed class CodeConfiguredClusterTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_stopped_silo_is_marked_dead_and_its_grains_reactivate_on_the_other_with_their_state()
    {
        await using var server = await NatsServer.StartAsync(output);
        var builder = new InProcessTestClusterBuilder(2).WithoutTestMembership();
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddNatsConnection(o => o.Url = server.Url);
            silo.UseNatsClustering(o => o.Bucket = "code-cluster")
                .UseNatsGrainDirectoryAsDefault(o => o.Bucket = "code-cluster")
                .AddNatsGrainDirectory("other", o => o.Bucket = "code-cluster")
                .AddNatsGrainStorageAsDefault(o => o.Bucket = "code-state");
        });
        builder.ConfigureClient(client =>
        {
            client.Services.AddNatsConnection(o => o.Url = server.Url);
            client.UseNatsClustering(o => o.Bucket = "code-cluster");
        });
        var cluster = builder.Build();
        try
        {
            await cluster.DeployAsync();
            var counters = Enumerable.Range(0, 12).Select(i => cluster.Client.GetGrain<ICounterGrain>("code" + i)).ToList();
            foreach (var counter in counters)
            {
                Assert.Equal(1, await counter.Increment());
            }

            var leaving = cluster.Silos[1];
            var staying = cluster.Silos[0];
            var directory = (NatsGrainDirectory)staying.ServiceProvider.GetRequiredKeyedService<IGrainDirectory>(GrainDirectoryAttribute.DEFAULT_GRAIN_DIRECTORY);
            var moved = new List<ICounterGrain>();
            foreach (var counter in counters)
            {
                if ((await directory.Lookup(counter.GetGrainId()))?.SiloAddress?.Equals(leaving.SiloAddress) == true)
                {
                    moved.Add(counter);
                }
            }

            await cluster.StopSiloAsync(leaving);
            var table = (NatsMembershipTable)staying.ServiceProvider.GetRequiredService<IMembershipTable>();
            var rows = await table.ReadAllAsync();
            Assert.Equal(SiloStatus.Dead, rows.Members.Single(m => m.Item1.SiloAddress.Equals(leaving.SiloAddress)).Item1.Status);
            Assert.Equal(SiloStatus.Active, rows.Members.Single(m => m.Item1.SiloAddress.Equals(staying.SiloAddress)).Item1.Status);

            output.WriteLine($"{moved.Count} of {counters.Count} grains were on the stopped silo");
            foreach (var counter in counters)
            {
                Assert.Equal(2, await counter.Increment());
            }

            foreach (var counter in moved)
            {
                Assert.Equal(staying.SiloAddress, (await directory.Lookup(counter.GetGrainId()))?.SiloAddress);
            }
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task Invalid_clustering_options_stop_the_silo_with_the_setting_named()
    {
        await using var server = await NatsServer.StartAsync(output);
        var builder = new InProcessTestClusterBuilder(1).WithoutTestMembership();
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddNatsConnection(o => o.Url = server.Url);
            silo.UseNatsClustering(o => o.Bucket = "not a bucket");
        });
        var cluster = builder.Build();
        try
        {
            var error = await Assert.ThrowsAnyAsync<Exception>(() => cluster.DeployAsync());
            var text = error.ToString();
            Assert.Contains("NATS clustering", text, StringComparison.Ordinal);
            Assert.Contains("Bucket", text, StringComparison.Ordinal);
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }
}
