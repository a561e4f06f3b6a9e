using Microsoft.Extensions.DependencyInjection;
using NATS.Client.Core;
using Orleans;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace CacheProvider.Grains.Tests.Silo;

/// <summary>
/// Whole Orleans test clusters stopped and started again on the same nats-server and ServiceId: what the NATS storage and
/// reminder table hold outlives every silo.
/// </summary>
public sealed class SiloRestartTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private NatsServer? _server;
    private NatsConnection? _connection;

    private NatsServer Server => _server!;

    public async Task InitializeAsync()
    {
        _server = await NatsServer.StartAsync();
        _connection = await _server.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>A cluster configured like <see cref="SiloFixture"/>, with a given ServiceId, each silo on its own NATS connection.</summary>
    internal static Task<(InProcessTestCluster Cluster, List<NatsConnection> Connections)> StartClusterAsync(NatsServer server, string serviceId, short silos = 1) =>
        StartClusterAsync(() => server.ConnectAsync(), serviceId, silos);

    internal static async Task<(InProcessTestCluster Cluster, List<NatsConnection> Connections)> StartClusterAsync(Func<Task<NatsConnection>> connect, string serviceId, short silos = 1, Action<NatsGrainStorageOptions>? storage = null, int replicas = 1)
    {
        var connections = new List<NatsConnection>();
        for (var i = 0; i < silos + 4; i++)
        {
            connections.Add(await connect());
        }

        var next = 0;
        var builder = new InProcessTestClusterBuilder(silos);
        builder.Options.ServiceId = serviceId;
        builder.ConfigureSilo((_, silo) =>
        {
            var connection = connections[Interlocked.Increment(ref next) % connections.Count];
            silo.Services.AddSingleton<INatsConnection>(connection);
            silo.AddNatsGrainStorage(SiloFixture.StorageName, o =>
            {
                o.Bucket = SiloFixture.StateBucket;
                o.Storage = KeyValue.KvStorage.Memory;
                o.StateTtls["short"] = TimeSpan.FromSeconds(1);
                o.Replicas = replicas;
                storage?.Invoke(o);
            });
            silo.UseNatsReminderService(o =>
            {
                o.Bucket = SiloFixture.ReminderBucket;
                o.Storage = KeyValue.KvStorage.Memory;
                o.Replicas = replicas;
            });
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return (cluster, connections);
    }

    internal static async Task StopClusterAsync(InProcessTestCluster cluster, List<NatsConnection> connections)
    {
        await cluster.StopAllSilosAsync();
        await cluster.DisposeAsync();
        foreach (var connection in connections)
        {
            await connection.DisposeAsync();
        }
    }

    [Fact]
    public async Task State_written_before_the_whole_cluster_stopped_is_read_by_a_new_activation_in_a_new_cluster_with_the_same_service_id()
    {
        var serviceId = "restart-" + Guid.NewGuid().ToString("N");
        var key = Guid.NewGuid().ToString("N");
        var (first, firstConnections) = await StartClusterAsync(Server, serviceId);
        StateView written;
        try
        {
            written = await first.Client.GetGrain<INoteGrain>(key).Write("before restart");
            Assert.True(written.RecordExists);
        }
        finally
        {
            await StopClusterAsync(first, firstConnections);
        }

        var (second, secondConnections) = await StartClusterAsync(Server, serviceId);
        try
        {
            var read = await second.Client.GetGrain<INoteGrain>(key).Get();
            Assert.NotEqual(written.ActivationId, read.ActivationId);
            Assert.True(read.RecordExists);
            Assert.Equal("before restart", read.Value);
            Assert.Equal(written.ETag, read.ETag);

            // A cluster with another ServiceId on the same bucket does not see it.
            var (other, otherConnections) = await StartClusterAsync(Server, "other-" + Guid.NewGuid().ToString("N"));
            try
            {
                var foreign = await other.Client.GetGrain<INoteGrain>(key).Get();
                Assert.False(foreign.RecordExists);
                Assert.Null(foreign.Value);
            }
            finally
            {
                await StopClusterAsync(other, otherConnections);
            }
        }
        finally
        {
            await StopClusterAsync(second, secondConnections);
        }
    }

    [Fact]
    public async Task A_reminder_registered_before_the_whole_cluster_stopped_ticks_again_in_a_new_cluster_through_the_NATS_table()
    {
        var serviceId = "restart-" + Guid.NewGuid().ToString("N");
        var key = Guid.NewGuid().ToString("N");
        var (first, firstConnections) = await StartClusterAsync(Server, serviceId);
        try
        {
            var grain = first.Client.GetGrain<ITickingGrain>(key);
            await grain.Start(TimeSpan.FromSeconds(1));
            var deadline = DateTime.UtcNow + Patience;
            while (await grain.Ticks() < 1 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }

            Assert.True(await grain.Ticks() >= 1, "the reminder did not tick in the first cluster");
        }
        finally
        {
            await StopClusterAsync(first, firstConnections);
        }

        var (second, secondConnections) = await StartClusterAsync(Server, serviceId);
        try
        {
            var table = second.Silos[0].ServiceProvider.GetRequiredService<IReminderTable>();
            Assert.IsType<NatsReminderTable>(table);
            var grain = second.Client.GetGrain<ITickingGrain>(key);
            var row = Assert.Single((await table.ReadRows(grain.GetGrainId())).Reminders);
            Assert.Equal(TickingGrain.ReminderName, row.ReminderName);

            // Nobody calls Start in this cluster: the ticks come from the row the first cluster stored.
            var deadline = DateTime.UtcNow + Patience;
            while (await grain.Ticks() < 2 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }

            Assert.True(await grain.Ticks() >= 2, "the stored reminder did not tick twice in the new cluster");
            await grain.Stop();
            Assert.Empty((await table.ReadRows(grain.GetGrainId())).Reminders);
        }
        finally
        {
            await StopClusterAsync(second, secondConnections);
        }
    }
}
