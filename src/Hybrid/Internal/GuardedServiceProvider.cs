using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;

namespace CacheProvider.Hybrid.Internal;

/// <summary>
/// The service provider one HybridCache is created with: the same services as the app's, except that its memory cache
/// and its distributed cache are the guard's views. HybridCache takes both in its constructor and keeps the provider
/// only for serializers, which pass through.
/// </summary>
internal sealed class GuardedServiceProvider(IServiceProvider root, HybridCacheGuard guard) : IServiceProvider, IKeyedServiceProvider
{
    public object? GetService(Type serviceType)
    {
        if (serviceType == typeof(IMemoryCache))
        {
            return guard.WrapL1(root.GetRequiredService<IMemoryCache>());
        }

        if (serviceType == typeof(IDistributedCache))
        {
            return guard.WrapL2(root.GetService<IDistributedCache>());
        }

        return serviceType == typeof(IServiceProvider) ? this : root.GetService(serviceType);
    }

    public object? GetKeyedService(Type serviceType, object? serviceKey)
    {
        if (serviceType == typeof(IDistributedCache))
        {
            return guard.WrapL2(Keyed.GetKeyedService(serviceType, serviceKey));
        }

        return Keyed.GetKeyedService(serviceType, serviceKey);
    }

    public object GetRequiredKeyedService(Type serviceType, object? serviceKey) =>
        GetKeyedService(serviceType, serviceKey)
        ?? throw new InvalidOperationException($"No service for type '{serviceType}' has been registered with key '{serviceKey}'.");

    private IKeyedServiceProvider Keyed => root as IKeyedServiceProvider
        ?? throw new InvalidOperationException("The service provider does not support keyed services.");
}
