using CacheProvider.Caching;
using CacheProvider.Connection;
using CacheProvider.Grains;
using CacheProvider.Grains.Caching;
using CacheProvider.Grains.Caching.Internal;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;

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
    /// unless <paramref name="configureStorage"/> says otherwise), on the app's NATS.Net connection. The storage deletes
    /// on clear and stores entries with Orleans' binary serializer (<see cref="OrleansGrainStorageSerializer"/>: the value
    /// is opaque bytes, which JSON would carry as base64); set
    /// <see cref="NatsGrainStorageOptions.GrainStorageSerializer"/> in <paramref name="configureStorage"/> for another.
    /// </summary>
    public static ISiloBuilder AddNatsCacheGrains(this ISiloBuilder builder, Action<NatsGrainStorageOptions>? configureStorage = null, Action<NatsCacheGrainOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddNatsGrainStorage(NatsCacheGrainOptions.DefaultStorageName, o =>
        {
            o.Bucket = NatsCacheGrainOptions.DefaultBucket;
            o.DeleteStateOnClear = true;
            configureStorage?.Invoke(o);
        });
        builder.ConfigureServices(services => services.TryAddKeyedSingleton<IGrainStorageSerializer>(
            NatsCacheGrainOptions.DefaultStorageName,
            static (sp, _) => new OrleansGrainStorageSerializer(sp.GetRequiredService<Serializer>())));
        return builder.AddNatsCacheGrains(NatsCacheGrainOptions.DefaultStorageName, configure);
    }

    /// <summary>
    /// Adds the cache grains on an existing NATS grain storage named <paramref name="storageName"/>. It must delete on
    /// clear, not renew TTLs on read and deactivate on a change of the cache's state (checked when the silo starts); entries are stored with that storage's serializer.
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
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NatsCacheGrainOptions>, CacheStorageValidator>());
            services.TryAddSingleton<CacheGrainStore>();
        });
    }

    /// <summary>
    /// Registers <see cref="OrleansDistributedCache"/> as the app's <see cref="IDistributedCache"/>,
    /// <see cref="IBufferDistributedCache"/> and <see cref="ICacheKeyEventSource"/>. Needs Orleans'
    /// <see cref="IGrainFactory"/>: <c>UseOrleansClient</c> in a client app, <c>UseOrleans</c> in a co-hosted one; the
    /// silos need <c>AddNatsCacheGrains</c>. Key events and the near cache use the app's NATS.Net connection (or one
    /// registered from the <c>Nats</c> section, see <c>AddNatsConnection</c>); nothing connects before first use.
    /// Options are validated at start-up; an empty <see cref="OrleansDistributedCacheOptions.ServiceId"/> is taken from
    /// Orleans' <see cref="ClusterOptions.ServiceId"/>.
    /// </summary>
    public static IServiceCollection AddOrleansNatsDistributedCache(this IServiceCollection services, Action<OrleansDistributedCacheOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<OrleansDistributedCacheOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return AddCore(services, options);
    }

    /// <summary>
    /// Like <see cref="AddOrleansNatsDistributedCache(IServiceCollection, Action{OrleansDistributedCacheOptions}?)"/>, with
    /// the options bound from <paramref name="section"/> (e.g. <c>configuration.GetSection("OrleansCache")</c>).
    /// </summary>
    public static IServiceCollection AddOrleansNatsDistributedCache(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);
        return AddCore(services, services.AddOptions<OrleansDistributedCacheOptions>().Bind(section));
    }

    private static IServiceCollection AddCore(IServiceCollection services, OptionsBuilder<OrleansDistributedCacheOptions> options)
    {
        options.ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<OrleansDistributedCacheOptions>, ServiceIdFromCluster>());
        services.AddNatsConnection();
        services.TryAddSingleton(sp =>
        {
            var settings = sp.GetRequiredService<IOptions<OrleansDistributedCacheOptions>>();
            return new OrleansDistributedCache(
                sp.GetRequiredService<IGrainFactory>(),
                settings,
                sp.GetService<TimeProvider>(),
                sp.GetNatsConnection(settings.Value.ConnectionKey),
                sp.GetService<ILogger<OrleansDistributedCache>>());
        });
        services.Replace(ServiceDescriptor.Singleton<IDistributedCache>(sp => sp.GetRequiredService<OrleansDistributedCache>()));
        services.Replace(ServiceDescriptor.Singleton<IBufferDistributedCache>(sp => sp.GetRequiredService<OrleansDistributedCache>()));
        services.Replace(ServiceDescriptor.Singleton<ICacheKeyEventSource>(sp => sp.GetRequiredService<OrleansDistributedCache>()));
        return services;
    }

    /// <summary>An empty <see cref="OrleansDistributedCacheOptions.ServiceId"/> is Orleans' service id (what the storage uses by default).</summary>
    private sealed class ServiceIdFromCluster(IServiceProvider services) : IPostConfigureOptions<OrleansDistributedCacheOptions>
    {
        public void PostConfigure(string? name, OrleansDistributedCacheOptions options)
        {
            if (string.IsNullOrEmpty(options.ServiceId))
            {
                options.ServiceId = services.GetService<IOptions<ClusterOptions>>()?.Value.ServiceId;
            }
        }
    }
}
