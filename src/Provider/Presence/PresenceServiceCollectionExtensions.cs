using CacheProvider.Internal;
using NATS.Client.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CacheProvider.Presence;

/// <summary>Registers <see cref="IPresenceTracker"/> on the app's NATS.Net <see cref="INatsConnection"/> (see <c>AddNatsConnection</c>).</summary>
public static class PresenceServiceCollectionExtensions
{
    /// <summary>Registers a singleton <see cref="PresenceTracker"/> as itself and as <see cref="IPresenceTracker"/>.</summary>
    public static IServiceCollection AddNatsPresence(this IServiceCollection services, Action<PresenceOptions>? configure = null)
    {
        return Register(services, PatternRegistration.Configure(services, configure));
    }

    /// <summary>Registers the presence tracker with settings bound from <paramref name="section"/> (e.g. <c>Nats:Presence</c>).</summary>
    public static IServiceCollection AddNatsPresence(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);
        return Register(services, services.AddOptions<PresenceOptions>().Bind(section));
    }

    private static IServiceCollection Register(IServiceCollection services, OptionsBuilder<PresenceOptions> builder) =>
        PatternRegistration.Register<PresenceOptions, IPresenceTracker, PresenceTracker>(services, builder, static o => o.GetValidationError(), static (c, o, l, t) => new PresenceTracker(c, o, l, t));
}
