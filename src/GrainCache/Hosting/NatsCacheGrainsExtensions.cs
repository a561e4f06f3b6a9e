using CacheProvider.Grains;
using CacheProvider.Grains.Caching;
using CacheProvider.Grains.Caching.Internal;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Orleans.Hosting;

/// <summary>
/// Registration of the Orleans distributed cache: <c>siloBuilder.AddNatsCacheGrains(…)</c> on silos, and
/// <c>services.AddOrleansNatsDistributedCache(…)</c> wherever the app uses the cache (an Orleans client or a silo host).
/// </summary>
public static class NatsCacheGrainsExtensions
{
    /// <summary>
    /// Adds the cache grains with their own NATS grain storage and state watcher named
    /// <see cref="NatsCacheGrainOptions.DefaultStorageName"/> (bucket <see cref="NatsCacheGrainOptions.DefaultBucket"/>
    /// unless <paramref name="configureStorage"/> says otherwise), on the app's NATS.Net connection.
    /// </summary>
    public static ISiloBuilder AddNatsCacheGrains(this ISiloBuilder builder, Action<NatsGrainStorageOptions>? configureStorage = null, Action<NatsCacheGrainOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddNatsGrainStorage(NatsCacheGrainOptions.DefaultStorageName, o =>
        {
            o.Bucket = NatsCacheGrainOptions.DefaultBucket;
            configureStorage?.Invoke(o);
        });
        builder.AddNatsGrainStateWatcher(NatsCacheGrainOptions.DefaultStorageName);
        return builder.AddNatsCacheGrains(NatsCacheGrainOptions.DefaultStorageName, configure);
    }

    /// <summary>
    /// Adds the cache grains on an existing NATS grain storage named <paramref name="storageName"/> (which must also have
    /// a state watcher: <c>AddNatsGrainStateWatcher(storageName)</c>).
    /// </summary>
    public static ISiloBuilder AddNatsCacheGrains(this ISiloBuilder builder, string storageName, Action<NatsCacheGrainOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(storageName);
        return builder.ConfigureServices(services =>
        {
            var options = services.AddOptions<NatsCacheGrainOptions>().Configure(o => o.StorageName = storageName);
            if (configure is not null)
            {
                options.Configure(configure);
            }

            options.ValidateDataAnnotations().ValidateOnStart();
            services.TryAddSingleton<CacheGrainStore>();
        });
    }

    /// <summary>
    /// Registers <see cref="OrleansDistributedCache"/> as the app's <see cref="IDistributedCache"/> and
    /// <see cref="IBufferDistributedCache"/>. Needs Orleans' <see cref="IGrainFactory"/>: <c>UseOrleansClient</c> in a
    /// client app, <c>UseOrleans</c> in a co-hosted one; the silos need <c>AddNatsCacheGrains</c>.
    /// </summary>
    public static IServiceCollection AddOrleansNatsDistributedCache(this IServiceCollection services, Action<OrleansDistributedCacheOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<OrleansDistributedCacheOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton(sp => new OrleansDistributedCache(
            sp.GetRequiredService<IGrainFactory>(),
            sp.GetRequiredService<IOptions<OrleansDistributedCacheOptions>>(),
            sp.GetService<TimeProvider>()));
        services.Replace(ServiceDescriptor.Singleton<IDistributedCache>(sp => sp.GetRequiredService<OrleansDistributedCache>()));
        services.Replace(ServiceDescriptor.Singleton<IBufferDistributedCache>(sp => sp.GetRequiredService<OrleansDistributedCache>()));
        return services;
    }
}
