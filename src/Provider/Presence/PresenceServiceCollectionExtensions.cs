using CacheProvider.Internal;
using CacheProvider.Nats;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CacheProvider.Presence;

/// <summary>Registers <see cref="IPresenceTracker"/> on the shared <see cref="NatsConnection"/> (see <c>AddNatsConnection</c>).</summary>
public static class PresenceServiceCollectionExtensions
{
    /// <summary>Registers a singleton <see cref="PresenceTracker"/> as itself and as <see cref="IPresenceTracker"/>.</summary>
    public static IServiceCollection AddNatsPresence(this IServiceCollection services, Action<PresenceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<PresenceOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        return Register(services, builder);
    }

    /// <summary>Registers the presence tracker with settings bound from <paramref name="section"/> (e.g. <c>Nats:Presence</c>).</summary>
    public static IServiceCollection AddNatsPresence(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);
        return Register(services, services.AddOptions<PresenceOptions>().Bind(section));
    }

    private static IServiceCollection Register(IServiceCollection services, OptionsBuilder<PresenceOptions> builder)
    {
        builder.ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PresenceOptions>>(new PatternOptionsValidator<PresenceOptions>(o => o.GetValidationError())));
        services.TryAddSingleton(sp => new PresenceTracker(
            sp.GetRequiredService<NatsConnection>(),
            sp.GetRequiredService<IOptions<PresenceOptions>>(),
            sp.GetService<ILogger<PresenceTracker>>(),
            sp.GetService<TimeProvider>()));
        services.TryAddSingleton<IPresenceTracker>(sp => sp.GetRequiredService<PresenceTracker>());
        return services;
    }
}
