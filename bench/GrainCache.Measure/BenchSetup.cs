using CacheProvider.Bench.Reporting;
using CacheProvider.Caching;
using CacheProvider.Grains.Caching;
using CacheProvider.KeyValue;
using CacheProvider.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;
using StackExchange.Redis;

namespace CacheProvider.GrainCache.Measure;

/// <summary>
/// One silo (our cache grains on NATS KV, the peer grains on Orleans' Redis storage, the deactivation hook) and a separate
/// Orleans client host (the cache as an ASP.NET front end sees it: <c>AddOrleansNatsDistributedCache</c>, plus the direct
/// <c>AddNatsDistributedCache</c> on its own NATS connection). Client calls cross the gateway over loopback TCP.
/// </summary>
internal static class BenchSetup
{
    public const string PeerStorage = "peer-redis";
    public const string OursBucket = "bench-graincache";
    public const string DirectBucket = "bench-natscache";
    private const string ClusterId = "graincache-measure";

    public static async Task<IHost> StartSiloAsync(INatsConnection connection, RedisServer? redis, string serviceId, int siloPort, int gatewayPort, bool directoryCache)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });

        // Silo warnings go to stderr: stdout holds only the result lines.
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(connection);
        builder.Services.AddSingleton<IConfigureGrainContextProvider, DeactivationHook>();
        builder.UseOrleans(silo =>
        {
            if (!directoryCache)
            {
                silo.Configure<GrainDirectoryOptions>(o => o.CachingStrategy = GrainDirectoryOptions.CachingStrategyType.None);
            }

            silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: serviceId, clusterId: ClusterId);

            // Ours with the product's defaults (marker TTL, renewal fraction) but memory storage: Redis runs without persistence too.
            silo.AddNatsCacheGrains(o =>
            {
                o.Bucket = OursBucket;
                o.Storage = KvStorage.Memory;
            });
            if (redis is not null)
            {
                var configuration = redis.Configuration;
                silo.AddRedisGrainStorage(PeerStorage, ob => ob.Configure<Serializer>((o, serializer) =>
                {
                    o.ConfigurationOptions = ConfigurationOptions.Parse(configuration);

                    // The peer's best case: Orleans' binary serializer (no base64 of the value, as JSON would give) and a
                    // clear that deletes the Redis key (the default leaves an empty record behind).
                    o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
                    o.DeleteStateOnClear = true;
                }));
            }
        });
        var host = builder.Build();
        using var start = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await host.StartAsync(start.Token);
        return host;
    }

    public static async Task<IHost> StartClientAsync(INatsConnection connection, string serviceId, int gatewayPort)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(connection);
        builder.UseOrleansClient(client => client.UseLocalhostClustering(gatewayPort, serviceId, ClusterId));
        builder.Services.AddOrleansNatsDistributedCache();
        builder.Services.AddNatsDistributedCache(o =>
        {
            o.Bucket = DirectBucket;
            o.Storage = KvStorage.Memory;
        });
        var host = builder.Build();
        using var start = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await host.StartAsync(start.Token);
        return host;
    }
}
