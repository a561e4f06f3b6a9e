using CacheProvider.Connection;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CacheProvider.Caching;

/// <summary>Registers <see cref="NatsDistributedCache"/> as <see cref="IDistributedCache"/>, <see cref="IBufferDistributedCache"/> and <see cref="ICacheKeyEventSource"/>.</summary>
public static class NatsDistributedCacheServiceCollectionExtensions
{
    /// <summary>
    /// Adds the NATS KV distributed cache on the app's NATS.Net connection (<c>AddNatsClient</c>); when none is
    /// registered, one is registered from the <c>Nats</c> configuration section (see
    /// <see cref="NatsConnectionServiceCollectionExtensions.AddNatsConnection(IServiceCollection, Action{NatsConnectionOptions}?)"/>).
    /// Nothing connects before first use, so the app starts even when NATS is down. Options are validated at start-up.
    /// </summary>
    public static IServiceCollection AddNatsDistributedCache(this IServiceCollection services, Action<NatsDistributedCacheOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<NatsDistributedCacheOptions>().Configure(configure).ValidateDataAnnotations().ValidateOnStart();
        return AddCore(services);
    }

    /// <summary>Adds the cache with options bound from a configuration section (e.g. <c>NatsCache</c>).</summary>
    public static IServiceCollection AddNatsDistributedCache(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);
        services.AddOptions<NatsDistributedCacheOptions>().Bind(section).ValidateDataAnnotations().ValidateOnStart();
        return AddCore(services);
    }

    /// <summary>
    /// Adds a named cache, resolvable as keyed <see cref="IDistributedCache"/>, <see cref="IBufferDistributedCache"/>,
    /// <see cref="ICacheKeyEventSource"/> and <see cref="NatsDistributedCache"/> under <paramref name="name"/>. Give each its own bucket or key prefix, and a
    /// <see cref="NatsDistributedCacheOptions.ConnectionKey"/> to use a keyed NATS.Net connection.
    /// </summary>
    public static IServiceCollection AddKeyedNatsDistributedCache(this IServiceCollection services, string name, Action<NatsDistributedCacheOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<NatsDistributedCacheOptions>(name).Configure(configure).ValidateDataAnnotations().ValidateOnStart();
        services.AddNatsConnection();
        services.TryAddKeyedSingleton(name, (sp, key) =>
        {
            var options = sp.GetRequiredService<IOptionsMonitor<NatsDistributedCacheOptions>>().Get((string)key!);
            return new NatsDistributedCache(sp.GetNatsConnection(options.ConnectionKey), options, sp.GetService<ILogger<NatsDistributedCache>>(), sp.GetService<TimeProvider>());
        });
        services.TryAddKeyedSingleton<IDistributedCache>(name, (sp, key) => sp.GetRequiredKeyedService<NatsDistributedCache>(key));
        services.TryAddKeyedSingleton<IBufferDistributedCache>(name, (sp, key) => sp.GetRequiredKeyedService<NatsDistributedCache>(key));
        services.TryAddKeyedSingleton<ICacheKeyEventSource>(name, (sp, key) => sp.GetRequiredKeyedService<NatsDistributedCache>(key));
        return services;
    }

    /// <summary>Adds a health check of the default cache (connection, bucket configuration, server version).</summary>
    public static IHealthChecksBuilder AddNatsDistributedCache(this IHealthChecksBuilder builder, string name = "nats-cache", HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(
            name,
            sp =>
            {
                var cache = sp.GetRequiredService<NatsDistributedCache>();
                return new NatsDistributedCacheHealthCheck(cache, cache.Connection);
            },
            failureStatus,
            tags));
    }

    private static IServiceCollection AddCore(IServiceCollection services)
    {
        services.AddNatsConnection();
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<NatsDistributedCacheOptions>>().Value;
            return new NatsDistributedCache(sp.GetNatsConnection(options.ConnectionKey), options, sp.GetService<ILogger<NatsDistributedCache>>(), sp.GetService<TimeProvider>());
        });
        services.Replace(ServiceDescriptor.Singleton<IDistributedCache>(sp => sp.GetRequiredService<NatsDistributedCache>()));
        services.TryAddSingleton<IBufferDistributedCache>(sp => sp.GetRequiredService<NatsDistributedCache>());
        services.TryAddSingleton<ICacheKeyEventSource>(sp => sp.GetRequiredService<NatsDistributedCache>());
        return services;
    }
}
