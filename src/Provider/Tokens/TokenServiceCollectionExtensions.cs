using CacheProvider.Internal;
using CacheProvider.Nats;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CacheProvider.Tokens;

/// <summary>Registers <see cref="IOneTimeTokens"/> on the shared <see cref="NatsConnection"/> (see <c>AddNatsConnection</c>).</summary>
public static class TokenServiceCollectionExtensions
{
    /// <summary>Registers a singleton <see cref="OneTimeTokenStore"/> as itself and as <see cref="IOneTimeTokens"/>.</summary>
    public static IServiceCollection AddNatsOneTimeTokens(this IServiceCollection services, Action<OneTimeTokenOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<OneTimeTokenOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        return Register(services, builder);
    }

    /// <summary>Registers the token store with settings bound from <paramref name="section"/> (e.g. <c>Nats:Tokens</c>).</summary>
    public static IServiceCollection AddNatsOneTimeTokens(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);
        return Register(services, services.AddOptions<OneTimeTokenOptions>().Bind(section));
    }

    private static IServiceCollection Register(IServiceCollection services, OptionsBuilder<OneTimeTokenOptions> builder)
    {
        builder.ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OneTimeTokenOptions>>(new PatternOptionsValidator<OneTimeTokenOptions>(o => o.GetValidationError())));
        services.TryAddSingleton(sp => new OneTimeTokenStore(
            sp.GetRequiredService<NatsConnection>(),
            sp.GetRequiredService<IOptions<OneTimeTokenOptions>>(),
            sp.GetService<ILogger<OneTimeTokenStore>>(),
            sp.GetService<TimeProvider>()));
        services.TryAddSingleton<IOneTimeTokens>(sp => sp.GetRequiredService<OneTimeTokenStore>());
        return services;
    }
}
