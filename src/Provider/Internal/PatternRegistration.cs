using CacheProvider.Connection;
using NATS.Client.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CacheProvider.Internal;

/// <summary>The registration leases, presence and tokens share: validated options and a singleton on the shared connection.</summary>
internal static class PatternRegistration
{
    public static OptionsBuilder<TOptions> Configure<TOptions>(IServiceCollection services, Action<TOptions>? configure)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<TOptions>();
        return configure is null ? builder : builder.Configure(configure);
    }

    /// <summary>Registers <typeparamref name="TImpl"/> as itself and as <typeparamref name="TService"/>, with options validated at start-up.</summary>
    public static IServiceCollection Register<TOptions, TService, TImpl>(
        IServiceCollection services,
        OptionsBuilder<TOptions> builder,
        Func<TOptions, string?> validate,
        Func<INatsConnection, IOptions<TOptions>, ILogger<TImpl>?, TimeProvider?, TImpl> create)
        where TOptions : class
        where TService : class
        where TImpl : class, TService
    {
        builder.ValidateDataAnnotations().ValidateOnStart();
        services.AddNatsConnection();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>>(new PatternOptionsValidator<TOptions>(validate)));
        services.TryAddSingleton(sp => create(
            sp.GetNatsConnection(),
            sp.GetRequiredService<IOptions<TOptions>>(),
            sp.GetService<ILogger<TImpl>>(),
            sp.GetService<TimeProvider>()));
        services.TryAddSingleton<TService>(sp => sp.GetRequiredService<TImpl>());
        return services;
    }
}
