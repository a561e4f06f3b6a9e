using CacheProvider.Clustering.Tests.Support;
using CacheProvider.Grains;
using CacheProvider.KeyValue;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using NATS.Client.Core;
using Orleans;
using Orleans.GrainDirectory;
using Orleans.Messaging;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace CacheProvider.Clustering.Tests.Silo;

/// <summary>
/// Silos and a client built from one configuration that names NATS for clustering, the grain directories, grain
/// storage and reminders (Orleans' <c>[RegisterProvider]</c> builders), with no other clustering: they form a cluster
/// and serve grain calls.
/// </summary>
public sealed class ConfigurationOnlyClusterTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Two_silos_and_a_client_from_one_configuration_form_a_cluster_on_NATS_alone()
    {
        await using var server = await NatsServer.StartAsync(output);
        var configuration = new Dictionary<string, string?>
        {
            ["Nats:Url"] = server.Url,
            ["Orleans:Clustering:ProviderType"] = "Nats",
            ["Orleans:Clustering:Bucket"] = "cfg-cluster",
            ["Orleans:GrainDirectory:default:ProviderType"] = "Nats",
            ["Orleans:GrainDirectory:default:Bucket"] = "cfg-cluster",
            ["Orleans:GrainDirectory:other:ProviderType"] = "NatsServer",
            ["Orleans:GrainDirectory:other:Bucket"] = "cfg-other-directory",
            ["Orleans:GrainStorage:Default:ProviderType"] = "Nats",
            ["Orleans:GrainStorage:Default:Bucket"] = "cfg-state",
            ["Orleans:Reminders:ProviderType"] = "Nats",
            ["Orleans:Reminders:Bucket"] = "cfg-reminders",
        };
        var builder = new InProcessTestClusterBuilder(2).WithoutTestMembership();
        builder.ConfigureSiloHost((_, host) => host.Configuration.AddInMemoryCollection(configuration));
        builder.ConfigureClientHost(host => host.Configuration.AddInMemoryCollection(configuration));
        var cluster = builder.Build();
        try
        {
            await cluster.DeployAsync();
            var silo = cluster.Silos[0].ServiceProvider;
            var table = Assert.IsType<NatsMembershipTable>(silo.GetRequiredService<IMembershipTable>());
            Assert.Equal("cfg-cluster", table.Bucket);
            Assert.IsType<NatsGatewayListProvider>(cluster.Client.ServiceProvider.GetRequiredService<IGatewayListProvider>());

            var rows = await table.ReadAllAsync();
            Assert.Equal(2, rows.Members.Count(m => m.Item1.Status == SiloStatus.Active));

            var counters = Enumerable.Range(0, 8).Select(i => cluster.Client.GetGrain<ICounterGrain>("c" + i)).ToList();
            foreach (var counter in counters)
            {
                Assert.Equal(1, await counter.Increment());
                Assert.Equal(2, await counter.Increment());
            }

            Assert.Equal("pong", await cluster.Client.GetGrain<IElsewhereGrain>(Guid.NewGuid()).Ping());

            // The grains are in the NATS directories the configuration named.
            var directory = Assert.IsType<NatsGrainDirectory>(silo.GetRequiredKeyedService<IGrainDirectory>(GrainDirectoryAttribute.DEFAULT_GRAIN_DIRECTORY));
            var entry = await directory.Lookup(counters[0].GetGrainId());
            Assert.NotNull(entry);
            Assert.Contains(cluster.Silos, s => s.SiloAddress.Equals(entry.SiloAddress));
            var other = Assert.IsType<NatsGrainDirectory>(silo.GetRequiredKeyedService<IGrainDirectory>("other"));
            Assert.Equal("cfg-other-directory", other.Bucket);

            await using var connection = await server.ConnectAsync();
            var status = await new KvContext(connection).GetStatusAsync("cfg-cluster");
            Assert.True(status.AllowAtomicPublish);
            Assert.Equal(1, status.History);
            Assert.Equal(TimeSpan.Zero, status.MaxAge);
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }
}
