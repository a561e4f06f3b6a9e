using CacheProvider.Connection;
using CacheProvider.Nats;
using Microsoft.AspNetCore.Session;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CacheProvider.Sessions;

/// <summary>Registers <see cref="NatsSessionStore"/> as the ASP.NET Core <see cref="ISessionStore"/>.</summary>
public static class NatsSessionStoreServiceCollectionExtensions
{
    /// <summary>
    /// Adds the NATS session store and makes it the <see cref="ISessionStore"/> (call <c>AddSession()</c> as usual for
    /// the cookie and idle timeout, before or after). An already registered <see cref="NatsConnection"/> is reused;
    /// otherwise one is registered for <see cref="NatsSessionStoreOptions.Url"/>. Nothing connects before first use.
    /// </summary>
    public static IServiceCollection AddNatsSessionStore(this IServiceCollection services, Action<NatsSessionStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<NatsSessionStoreOptions>().Configure(configure ?? (_ => { })).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(sp =>
        {
            var url = sp.GetRequiredService<IOptions<NatsSessionStoreOptions>>().Value.Url ?? "nats://127.0.0.1:4222";
            return new NatsConnection(new NatsConnectionOptions { Url = url }.ToNatsOptions(sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance));
        });
        services.TryAddSingleton(sp => new NatsSessionStore(
            sp.GetRequiredService<NatsConnection>(),
            sp.GetRequiredService<IOptions<NatsSessionStoreOptions>>().Value,
            sp.GetService<ILogger<NatsSessionStore>>(),
            sp.GetService<TimeProvider>()));
        services.Replace(ServiceDescriptor.Singleton<ISessionStore>(sp => sp.GetRequiredService<NatsSessionStore>()));
        return services;
    }
}
