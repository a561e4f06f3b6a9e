using CacheProvider.KeyValue;
using Microsoft.Extensions.DependencyInjection;
using NATS.Client.Core;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace CacheProvider.Grains.Tests.Deactivation;

/// <summary>
/// A real nats-server and an in-process Orleans cluster whose only deactivation set-up is the storage's own options:
/// a 2 s TTL for <see cref="ExpiringState"/>, and <see cref="WatchedState"/> (no TTL) named for deactivation.
/// </summary>
public sealed class DeactivationCluster : IAsyncDisposable
{
    public const string StorageName = "nats";
    public const string ExpiringState = "expiring";
    public const string WatchedState = "watched";
    public const string Bucket = "deactivation-state";
    public static readonly TimeSpan ExpiringTtl = TimeSpan.FromSeconds(2);

    private readonly List<NatsConnection> _connections;

    private DeactivationCluster(NatsServer server, InProcessTestCluster cluster, List<NatsConnection> connections, string serviceId, KvStorage storage)
    {
        Server = server;
        Cluster = cluster;
        _connections = connections;
        ServiceId = serviceId;
        Storage = storage;
    }

    public NatsServer Server { get; }

    public InProcessTestCluster Cluster { get; }

    public string ServiceId { get; }

    public KvStorage Storage { get; }

    /// <summary>Starts <paramref name="silos"/> silos, each on its own NATS connection.</summary>
    public static async Task<DeactivationCluster> StartAsync(NatsServer server, short silos = 1, KvStorage storage = KvStorage.Memory)
    {
        var serviceId = "deact-" + Guid.NewGuid().ToString("N")[..8];
        var connections = new List<NatsConnection>();
        for (var i = 0; i < silos + 2; i++)
        {
            connections.Add(await server.ConnectAsync());
        }

        var next = -1;
        var builder = new InProcessTestClusterBuilder(silos);
        builder.Options.ServiceId = serviceId;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton<INatsConnection>(connections[Interlocked.Increment(ref next) % connections.Count]);
            silo.AddNatsGrainStorage(StorageName, o =>
            {
                o.Bucket = Bucket;
                o.Storage = storage;
                o.StateTtls[ExpiringState] = ExpiringTtl;
                o.DeactivateOnStateChangeByState[WatchedState] = true;
                o.Watch.IdleHeartbeat = TimeSpan.FromSeconds(1);
                o.Watch.RetryDelay = TimeSpan.FromMilliseconds(200);
            });
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new DeactivationCluster(server, cluster, connections, serviceId, storage);
    }

    /// <summary>The storage of silo <paramref name="index"/>.</summary>
    public NatsGrainStorage SiloStorage(int index = 0) => Cluster.Silos[index].ServiceProvider.GetRequiredKeyedService<NatsGrainStorage>(StorageName);

    /// <summary>Another process's storage instance on the same bucket and service (same Bucket, ServiceId, LimitMarkerTtl).</summary>
    public async Task<NatsGrainStorage> OtherStorageAsync()
    {
        var connection = await Server.ConnectAsync();
        _connections.Add(connection);
        var options = new NatsGrainStorageOptions { ServiceId = ServiceId, Bucket = Bucket, Storage = Storage };
        options.StateTtls[ExpiringState] = ExpiringTtl;
        return new NatsGrainStorage("other", options, connection);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Cluster.StopAllSilosAsync();
        }
        catch (Exception)
        {
            // A test that killed a silo or the server: disposal below still runs.
        }

        await Cluster.DisposeAsync();
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }
    }
}
