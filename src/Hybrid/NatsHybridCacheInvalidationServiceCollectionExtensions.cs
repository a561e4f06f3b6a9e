using CacheProvider.Hybrid.Internal;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CacheProvider.Hybrid;

/// <summary>Registers <see cref="NatsHybridCacheInvalidator"/>.</summary>
public static class NatsHybridCacheInvalidationServiceCollectionExtensions
{
    /// <summary>
    /// Opt-in for the default HybridCache: every node's HybridCache L1 drops a key when any other node sets or removes it,
    /// or it expires, and replays other nodes' <c>RemoveByTagAsync</c>. Call it after <c>AddHybridCache()</c>, whose L2
    /// must be <c>AddNatsDistributedCache</c> (or a keyed NATS cache named by <c>HybridCacheOptions.DistributedCacheServiceKey</c>).
    /// Runs as a hosted service (with a plain ServiceProvider, start the <see cref="IHostedService"/>s yourself); resolve
    /// the invalidator as <see cref="NatsHybridCacheInvalidator"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">No HybridCache is registered yet, or it was registered as an instance.</exception>
    public static IServiceCollection AddNatsHybridCacheInvalidation(this IServiceCollection services) => Add(services, null);

    /// <summary>
    /// The same for the HybridCache registered with <c>AddKeyedHybridCache(<paramref name="serviceKey"/>, …)</c>; its
    /// <c>DistributedCacheServiceKey</c> names its NATS cache (e.g. one added with <c>AddKeyedNatsDistributedCache</c>).
    /// Resolve the invalidator as a keyed <see cref="NatsHybridCacheInvalidator"/> under the same key.
    /// </summary>
    /// <exception cref="InvalidOperationException">No HybridCache is registered under the key yet, or it was registered as an instance.</exception>
    public static IServiceCollection AddNatsHybridCacheInvalidation(this IServiceCollection services, object serviceKey)
    {
        ArgumentNullException.ThrowIfNull(serviceKey);
        return Add(services, serviceKey);
    }

    private static IServiceCollection Add(IServiceCollection services, object? serviceKey)
    {
        ArgumentNullException.ThrowIfNull(services);
        var keyed = serviceKey is not null;
        if (services.Any(d => d.ServiceType == typeof(NatsHybridCacheInvalidator) && d.IsKeyedService == keyed && Equals(d.ServiceKey, serviceKey)))
        {
            return services;
        }

        var index = -1;
        for (var i = services.Count - 1; i >= 0; i--)
        {
            var d = services[i];
            if (d.ServiceType == typeof(HybridCache) && d.IsKeyedService == keyed && Equals(d.ServiceKey, serviceKey))
            {
                index = i;
                break;
            }
        }

        var what = keyed ? $"AddKeyedHybridCache({serviceKey})" : "AddHybridCache()";
        if (index < 0)
        {
            throw new InvalidOperationException($"AddNatsHybridCacheInvalidation needs {what} to be called first.");
        }

        var original = services[index];
        var create = Creator(original)
            ?? throw new InvalidOperationException($"AddNatsHybridCacheInvalidation cannot follow a HybridCache registered as an instance ({what}); register it with AddHybridCache.");
        var guardKey = new GuardKey(serviceKey);
        services.AddKeyedSingleton(guardKey, (_, _) => new HybridCacheGuard(serviceKey));

        // HybridCache is created with the guard's views of its L1 and L2 (same lifetime as before).
        services[index] = keyed
            ? new ServiceDescriptor(typeof(HybridCache), serviceKey, (sp, key) => create(new GuardedServiceProvider(sp, sp.GetRequiredKeyedService<HybridCacheGuard>(guardKey)), key), original.Lifetime)
            : new ServiceDescriptor(typeof(HybridCache), sp => create(new GuardedServiceProvider(sp, sp.GetRequiredKeyedService<HybridCacheGuard>(guardKey)), null), original.Lifetime);

        Func<IServiceProvider, NatsHybridCacheInvalidator> invalidator = sp => new NatsHybridCacheInvalidator(
            sp, sp.GetRequiredKeyedService<HybridCacheGuard>(guardKey), sp.GetService<ILogger<NatsHybridCacheInvalidator>>(), sp.GetService<TimeProvider>());
        if (keyed)
        {
            services.AddKeyedSingleton(serviceKey, (sp, _) => invalidator(sp));
            services.AddSingleton<IHostedService>(sp => sp.GetRequiredKeyedService<NatsHybridCacheInvalidator>(serviceKey));
        }
        else
        {
            services.TryAddSingleton<NatsHybridCacheInvalidator>(invalidator);
            services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<NatsHybridCacheInvalidator>());
        }

        return services;
    }

    /// <summary>How the original registration creates HybridCache, given a service provider (null for an instance).</summary>
    private static Func<IServiceProvider, object?, object>? Creator(ServiceDescriptor d)
    {
        if (d.IsKeyedService)
        {
            if (d.KeyedImplementationFactory is { } keyedFactory)
            {
                return keyedFactory;
            }

            return d.KeyedImplementationType is { } keyedType ? (sp, _) => ActivatorUtilities.CreateInstance(sp, keyedType) : null;
        }

        if (d.ImplementationFactory is { } factory)
        {
            return (sp, _) => factory(sp);
        }

        return d.ImplementationType is { } type ? (sp, _) => ActivatorUtilities.CreateInstance(sp, type) : null;
    }

    /// <summary>The guard of the HybridCache registered under <see cref="ServiceKey"/> (a type of its own: no clash with app keys).</summary>
    private sealed record GuardKey(object? ServiceKey);
}
