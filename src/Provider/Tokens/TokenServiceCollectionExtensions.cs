using CacheProvider.Internal;
using NATS.Client.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CacheProvider.Tokens;

/// <summary>Registers <see cref="IOneTimeTokens"/> on the app's NATS.Net <see cref="INatsConnection"/> (see <c>AddNatsConnection</c>).</summary>
public static class TokenServiceCollectionExtensions
{
    /// <summary>Registers a singleton <see cref="OneTimeTokenStore"/> as itself and as <see cref="IOneTimeTokens"/>.</summary>
    public static IServiceCollection AddNatsOneTimeTokens(this IServiceCollection services, Action<OneTimeTokenOptions>? configure = null)
    {
        return Register(services, PatternRegistration.Configure(services, configure));
    }

    /// <summary>Registers the token store with settings bound from <paramref name="section"/> (e.g. <c>Nats:Tokens</c>).</summary>
    public static IServiceCollection AddNatsOneTimeTokens(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);
        return Register(services, services.AddOptions<OneTimeTokenOptions>().Bind(section));
    }

    private static IServiceCollection Register(IServiceCollection services, OptionsBuilder<OneTimeTokenOptions> builder) =>
        PatternRegistration.Register<OneTimeTokenOptions, IOneTimeTokens, OneTimeTokenStore>(services, builder, static o => o.GetValidationError(), static (c, o, l, t) => new OneTimeTokenStore(c, o, l, t));
}
