using CacheProvider.Grains.Caching.Internal;
using CacheProvider.KeyValue;
using Microsoft.Extensions.DependencyInjection;
using NATS.Client.Core;
using Orleans;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace CacheProvider.Grains.Caching.Tests;

/// <summary>
/// An in-process Orleans cluster (one silo) with the cache grains on a real nats-server: <c>AddNatsCacheGrains</c>
/// on the silo (memory bucket, fixed storage service id so a new cluster finds the old entries) and
/// <c>AddOrleansNatsDistributedCache</c> in the silo host (the co-hosted shape).
/// </summary>
public sealed class CacheCluster : IAsyncDisposable
{
    public const string ServiceId = "graincache-tests";
    public const string Bucket = "graincache-tests";

    private readonly InProcessTestCluster _cluster;

    private CacheCluster(InProcessTestCluster cluster, INatsConnection connection)
    {
        _cluster = cluster;
        Connection = connection;
    }

    public INatsConnection Connection { get; }

    public InProcessTestCluster Cluster => _cluster;

    public IClusterClient Client => _cluster.Client;

    public IServiceProvider SiloServices => _cluster.Silos[0].ServiceProvider;

    /// <summary>The cache as an Orleans client app sees it (the cluster client's grain factory).</summary>
    public OrleansDistributedCache ClientCache => new(Client);

    internal CacheGrainStore Store => SiloServices.GetRequiredService<CacheGrainStore>();

    public static async Task<CacheCluster> StartAsync(INatsConnection connection, int silos = 1, Action<NatsGrainStorageOptions>? configureStorage = null, TimeSpan? clientResponseTimeout = null, Action<NatsCacheGrainOptions>? configureGrains = null)
    {
        var builder = new InProcessTestClusterBuilder((short)silos);
        if (clientResponseTimeout is { } timeout)
        {
            builder.ConfigureClient(client => client.Configure<Orleans.Configuration.ClientMessagingOptions>(o => o.ResponseTimeout = timeout));
        }

        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton(connection);
            silo.AddNatsCacheGrains(o =>
            {
                o.ServiceId = ServiceId;
                o.Bucket = Bucket;
                o.Storage = KvStorage.Memory;
                o.LimitMarkerTtl = TimeSpan.FromSeconds(5);
                configureStorage?.Invoke(o);
            }, configureGrains);
            silo.Services.AddOrleansNatsDistributedCache();
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new CacheCluster(cluster, connection);
    }

    /// <summary>The KV key of a cache key's entry.</summary>
    public string KvKeyOf(string cacheKey) => Store.KeyOf(Client.GetGrain<ICacheGrain>(cacheKey).GetGrainId());

    public async Task<KvBucket> BucketAsync() => await new KvContext(Connection).GetBucketAsync(Bucket);

    /// <summary>
    /// Another writer on the cache's storage: a second <see cref="NatsGrainStorage"/> with the silo storage's options and
    /// serializer (the silo's watcher does not know its writes, as with another cluster or an operator tool).
    /// </summary>
    public NatsGrainStorage OtherStorage()
    {
        var name = NatsCacheGrainOptions.DefaultStorageName;
        var options = SiloServices.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<NatsGrainStorageOptions>>().Get(name);
        return new NatsGrainStorage("elsewhere", options, Connection, NatsGrainStorageFactory.ResolveSerializer(SiloServices, name, options));
    }

    /// <summary>The stored entry of a cache key, read through <see cref="OtherStorage"/>.</summary>
    internal async Task<GrainState<CacheEntryState>> StoredAsync(string cacheKey)
    {
        var state = new GrainState<CacheEntryState>();
        await OtherStorage().ReadStateAsync(CacheGrainStore.StateName, Client.GetGrain<ICacheGrain>(cacheKey).GetGrainId(), state);
        return state;
    }

    /// <summary>How many of these keys' cache grains are activated in the cluster (Orleans' management grain).</summary>
    public async Task<int> LiveActivationsAsync(IEnumerable<string> cacheKeys)
    {
        var ids = cacheKeys.Select(k => Client.GetGrain<ICacheGrain>(k).GetGrainId()).ToHashSet();
        var stats = await Client.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
        return stats.Count(s => ids.Contains(s.GrainId));
    }

    public async ValueTask DisposeAsync()
    {
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
    }
}

/// <summary>One nats-server and one cache cluster shared by the tests of the collection (run one after another).</summary>
public sealed class CacheClusterFixture : IAsyncLifetime
{
    private NatsServer? _server;
    private NatsConnection? _connection;
    private CacheCluster? _cluster;

    public NatsServer Server => _server ?? throw new InvalidOperationException("not started");

    public CacheCluster Cluster => _cluster ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        _server = await NatsServer.StartAsync();
        _connection = await _server.ConnectAsync();
        _cluster = await CacheCluster.StartAsync(_connection);
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class CacheClusterCollection : ICollectionFixture<CacheClusterFixture>
{
    public const string Name = "cache cluster";
}

internal static class Eventually
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Polls <paramref name="condition"/> until it holds or <see cref="Patience"/> runs out; returns whether it held.</summary>
    public static async Task<bool> HoldsAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            if (await condition())
            {
                return true;
            }

            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(200);
        }
    }
}
