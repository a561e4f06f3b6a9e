using Microsoft.AspNetCore.Session;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CacheProvider.Sessions;

/// <summary>Registers <see cref="RemoveOnClearSessionStore"/> as the ASP.NET Core <see cref="ISessionStore"/>.</summary>
public static class RemoveOnClearSessionStoreServiceCollectionExtensions
{
    /// <summary>
    /// Makes <see cref="RemoveOnClearSessionStore"/> the <see cref="ISessionStore"/> (before or after <c>AddSession()</c>):
    /// the stock session on the app's <c>IDistributedCache</c>, whose <c>Clear()</c> removes the session from the cache.
    /// </summary>
    public static IServiceCollection AddRemoveOnClearSessionStore(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.Replace(ServiceDescriptor.Transient<ISessionStore, RemoveOnClearSessionStore>());
        return services;
    }
}
