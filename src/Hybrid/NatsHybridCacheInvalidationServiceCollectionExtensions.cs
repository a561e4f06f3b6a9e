using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace CacheProvider.Hybrid;

/// <summary>Registers <see cref="NatsHybridCacheInvalidator"/>.</summary>
public static class NatsHybridCacheInvalidationServiceCollectionExtensions
{
    /// <summary>
    /// Opt-in: every node's HybridCache L1 drops a key when any other node sets or removes it, or it expires, and
    /// replays other nodes' <c>RemoveByTagAsync</c>. Needs <c>AddHybridCache()</c> over <c>AddNatsDistributedCache</c>;
    /// runs as a hosted service (with a plain ServiceProvider, start the <see cref="IHostedService"/>s yourself).
    /// </summary>
    public static IServiceCollection AddNatsHybridCacheInvalidation(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(NatsHybridCacheInvalidator)))
        {
            return services;
        }

        services.TryAddSingleton<NatsHybridCacheInvalidator>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<NatsHybridCacheInvalidator>());
        return services;
    }
}
