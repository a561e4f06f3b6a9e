using CacheProvider.Internal;
using CacheProvider.Nats;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CacheProvider.Leases;

/// <summary>Registers <see cref="ILeaseManager"/> on the shared <see cref="NatsConnection"/> (see <c>AddNatsConnection</c>).</summary>
public static class LeaseServiceCollectionExtensions
{
    /// <summary>Registers a singleton <see cref="LeaseManager"/> as itself and as <see cref="ILeaseManager"/>.</summary>
    public static IServiceCollection AddNatsLeases(this IServiceCollection services, Action<LeaseOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<LeaseOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        return Register(services, builder);
    }

    /// <summary>Registers the lease manager with settings bound from <paramref name="section"/> (e.g. <c>Nats:Leases</c>).</summary>
    public static IServiceCollection AddNatsLeases(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);
        return Register(services, services.AddOptions<LeaseOptions>().Bind(section));
    }

    private static IServiceCollection Register(IServiceCollection services, OptionsBuilder<LeaseOptions> builder)
    {
        builder.ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LeaseOptions>>(new PatternOptionsValidator<LeaseOptions>(o => o.GetValidationError())));
        services.TryAddSingleton(sp => new LeaseManager(
            sp.GetRequiredService<NatsConnection>(),
            sp.GetRequiredService<IOptions<LeaseOptions>>(),
            sp.GetService<ILogger<LeaseManager>>(),
            sp.GetService<TimeProvider>()));
        services.TryAddSingleton<ILeaseManager>(sp => sp.GetRequiredService<LeaseManager>());
        return services;
    }
}
