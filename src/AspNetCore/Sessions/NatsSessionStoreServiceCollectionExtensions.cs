using CacheProvider.Connection;
using Microsoft.AspNetCore.Session;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CacheProvider.Sessions;

/// <summary>Registers <see cref="NatsSessionStore"/> as the ASP.NET Core <see cref="ISessionStore"/>.</summary>
public static class NatsSessionStoreServiceCollectionExtensions
{
    /// <summary>
    /// Adds the NATS session store and makes it the <see cref="ISessionStore"/> (call <c>AddSession()</c> as usual for
    /// the cookie and idle timeout, before or after), on the app's NATS.Net connection (<c>AddNatsClient</c>); when none is
    /// registered, one is registered from the <c>Nats</c> configuration section. Nothing connects before first use.
    /// </summary>
    public static IServiceCollection AddNatsSessionStore(this IServiceCollection services, Action<NatsSessionStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<NatsSessionStoreOptions>().Configure(configure ?? (_ => { })).ValidateDataAnnotations().ValidateOnStart();
        services.AddNatsConnection();
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<NatsSessionStoreOptions>>().Value;
            return new NatsSessionStore(sp.GetNatsConnection(options.ConnectionKey), options, sp.GetService<ILogger<NatsSessionStore>>(), sp.GetService<TimeProvider>());
        });
        services.Replace(ServiceDescriptor.Singleton<ISessionStore>(sp => sp.GetRequiredService<NatsSessionStore>()));
        return services;
    }
}
