using Orleans;
using Orleans.Runtime;

namespace CacheProvider.Grains.Tests.Silo;

/// <summary>Two silos of one cluster sharing the NATS state bucket.</summary>
public sealed class TwoSiloTests : IAsyncLifetime
{
    private NatsServer? _server;

    public async Task InitializeAsync() => _server = await NatsServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task State_written_through_one_silo_is_read_by_the_new_activation_on_the_other_silo_after_the_first_silo_stops()
    {
        var (cluster, connections) = await SiloRestartTests.StartClusterAsync(_server!, "two-" + Guid.NewGuid().ToString("N"), silos: 2);
        try
        {
            Assert.Equal(2, cluster.Silos.Count);
            var grain = cluster.Client.GetGrain<INoteGrain>(Guid.NewGuid().ToString("N"));
            var written = await grain.Write("from the first host");
            Assert.True(cluster.TryGetGrainContext(grain.GetGrainId(), out var context));
            var host = Assert.Single(cluster.Silos, s => s.SiloAddress.Equals(context!.Address.SiloAddress));
            var survivor = Assert.Single(cluster.Silos, s => !ReferenceEquals(s, host));

            await cluster.StopSiloAsync(host);

            var read = await grain.Get();
            Assert.NotEqual(written.ActivationId, read.ActivationId);
            Assert.True(cluster.TryGetGrainContext(grain.GetGrainId(), out var moved));
            Assert.Equal(survivor.SiloAddress, moved!.Address.SiloAddress);
            Assert.True(read.RecordExists);
            Assert.Equal("from the first host", read.Value);
            Assert.Equal(written.ETag, read.ETag);

            // And the survivor writes on top of it with the ETag it read.
            var again = await grain.Write("from the survivor");
            Assert.NotEqual(written.ETag, again.ETag);
        }
        finally
        {
            await SiloRestartTests.StopClusterAsync(cluster, connections);
        }
    }
}
