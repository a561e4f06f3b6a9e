using Microsoft.Extensions.Hosting;
using Orleans.Hosting;
using StackExchange.Redis;

namespace CacheProvider.Samples.Cluster;

/// <summary>
/// Membership and the grain directory for silos and the client: on NATS (the app's NATS.Net connection, the same one
/// the grain storage and reminders use), or on Orleans' own Redis providers for comparison.
/// </summary>
internal static class ClusteringSetup
{
    public static void Configure(ISiloBuilder silo, ClusteringProvider provider, string? redis)
    {
        switch (provider)
        {
            case ClusteringProvider.Nats:
                silo.UseNatsClustering();
                silo.UseNatsGrainDirectoryAsDefault();
                break;
            default:
                var configuration = redis ?? throw new ArgumentException("Redis clustering needs a Redis endpoint", nameof(redis));
                silo.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(configuration));
                silo.UseRedisGrainDirectoryAsDefault(o => o.ConfigurationOptions = ConfigurationOptions.Parse(configuration));
                break;
        }
    }

    public static void Configure(IClientBuilder client, ClusteringProvider provider, string? redis)
    {
        switch (provider)
        {
            case ClusteringProvider.Nats:
                client.UseNatsClustering();
                break;
            default:
                var configuration = redis ?? throw new ArgumentException("Redis clustering needs a Redis endpoint", nameof(redis));
                client.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(configuration));
                break;
        }
    }
}
