using CacheProvider.Connection;
using CacheProvider.Nats;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CacheProvider.Caching;

/// <summary>Registers <see cref="NatsDistributedCache"/> as <see cref="IDistributedCache"/> and <see cref="IBufferDistributedCache"/>.</summary>
public static class NatsDistributedCacheServiceCollectionExtensions
{
    /// <summary>
    /// Adds the NATS KV distributed cache. An already registered <see cref="NatsConnection"/> is reused; otherwise one
    /// is registered for <see cref="NatsDistributedCacheOptions.Url"/>. Nothing connects before first use, so the app
    /// starts even when NATS is down. Options are validated at start-up.
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
    /// Adds a named cache, resolvable as keyed <see cref="IDistributedCache"/>, <see cref="IBufferDistributedCache"/> and
    /// <see cref="NatsDistributedCache"/> under <paramref name="name"/>. Give each its own bucket or key prefix.
    /// </summary>
    public static IServiceCollection AddKeyedNatsDistributedCache(this IServiceCollection services, string name, Action<NatsDistributedCacheOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<NatsDistributedCacheOptions>(name).Configure(configure).ValidateDataAnnotations().ValidateOnStart();
        // A named cache with its own Url gets its own connection (disposed by the container); otherwise it shares one.
        var ownConnection = OwnConnectionKey(name);
        services.TryAddKeyedSingleton(ownConnection, (sp, _) =>
        {
            var options = sp.GetRequiredService<IOptionsMonitor<NatsDistributedCacheOptions>>().Get(name);
            return new NatsConnection(new NatsConnectionOptions { Url = options.Url! }.ToNatsOptions(sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance));
        });
        services.TryAddKeyedSingleton(name, (sp, key) =>
        {
            var options = sp.GetRequiredService<IOptionsMonitor<NatsDistributedCacheOptions>>().Get((string)key!);
            var connection = options.ConnectionKey is null && options.Url is not null
                ? sp.GetRequiredKeyedService<NatsConnection>(ownConnection)
                : ResolveConnection(sp, options);
            return new NatsDistributedCache(connection, options, sp.GetService<ILogger<NatsDistributedCache>>(), sp.GetService<TimeProvider>());
        });
        services.TryAddKeyedSingleton<IDistributedCache>(name, (sp, key) => sp.GetRequiredKeyedService<NatsDistributedCache>(key));
        services.TryAddKeyedSingleton<IBufferDistributedCache>(name, (sp, key) => sp.GetRequiredKeyedService<NatsDistributedCache>(key));
        RegisterDefaultConnection(services);
        return services;
    }

    /// <summary>Adds a health check of the default cache (connection, bucket configuration, server version).</summary>
    public static IHealthChecksBuilder AddNatsDistributedCache(this IHealthChecksBuilder builder, string name = "nats-cache", HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(
            name,
            sp => new NatsDistributedCacheHealthCheck(sp.GetRequiredService<NatsDistributedCache>(), sp.GetRequiredService<NatsConnection>()),
            failureStatus,
            tags));
    }

    private static IServiceCollection AddCore(IServiceCollection services)
    {
        RegisterDefaultConnection(services);
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<NatsDistributedCacheOptions>>().Value;
            return new NatsDistributedCache(ResolveConnection(sp, options), options, sp.GetService<ILogger<NatsDistributedCache>>(), sp.GetService<TimeProvider>());
        });
        services.Replace(ServiceDescriptor.Singleton<IDistributedCache>(sp => sp.GetRequiredService<NatsDistributedCache>()));
        services.TryAddSingleton<IBufferDistributedCache>(sp => sp.GetRequiredService<NatsDistributedCache>());
        return services;
    }

    private static void RegisterDefaultConnection(IServiceCollection services) =>
        // Only when the app registered none (e.g. with AddNatsConnection): that one is shared.
        services.TryAddSingleton(sp =>
        {
            var url = sp.GetRequiredService<IOptions<NatsDistributedCacheOptions>>().Value.Url ?? "nats://127.0.0.1:4222";
            return new NatsConnection(new NatsConnectionOptions { Url = url }.ToNatsOptions(sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance));
        });

    private static string OwnConnectionKey(string cacheName) => "CacheProvider.Caching:" + cacheName;

    private static NatsConnection ResolveConnection(IServiceProvider sp, NatsDistributedCacheOptions options) =>
        options.ConnectionKey is { } key ? sp.GetRequiredKeyedService<NatsConnection>(key) : sp.GetRequiredService<NatsConnection>();
}
