using CacheProvider.Internal;
using NATS.Client.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CacheProvider.Leases;

/// <summary>Registers <see cref="ILeaseManager"/> on the app's NATS.Net <see cref="INatsConnection"/> (see <c>AddNatsConnection</c>).</summary>
public static class LeaseServiceCollectionExtensions
{
    /// <summary>Registers a singleton <see cref="LeaseManager"/> as itself and as <see cref="ILeaseManager"/>.</summary>
    public static IServiceCollection AddNatsLeases(this IServiceCollection services, Action<LeaseOptions>? configure = null)
    {
        return Register(services, PatternRegistration.Configure(services, configure));
    }

    /// <summary>Registers the lease manager with settings bound from <paramref name="section"/> (e.g. <c>Nats:Leases</c>).</summary>
    public static IServiceCollection AddNatsLeases(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);
        return Register(services, services.AddOptions<LeaseOptions>().Bind(section));
    }

    private static IServiceCollection Register(IServiceCollection services, OptionsBuilder<LeaseOptions> builder) =>
        PatternRegistration.Register<LeaseOptions, ILeaseManager, LeaseManager>(services, builder, static o => o.GetValidationError(), static (c, o, l, t) => new LeaseManager(c, o, l, t));
}
