using CacheProvider.Connection;
using CacheProvider.Grains;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Configuration;
using Orleans.Messaging;
using Orleans.Runtime.Hosting;

namespace CacheProvider.Grains.Hosting;

/// <summary>
/// What the clustering and grain directory builder extensions register, the way Orleans' Redis providers do: options
/// (validated at start by an <see cref="IConfigurationValidator"/>), the membership table as a singleton, on silos as
/// <see cref="IMembershipTable"/> and on clients behind <see cref="IGatewayListProvider"/>; directories through
/// Orleans' <c>AddGrainDirectory</c> (keyed, and a silo lifecycle participant).
/// </summary>
internal static class NatsClusteringRegistration
{
    public static void AddClustering(IServiceCollection services, Action<OptionsBuilder<NatsClusteringOptions>>? configureOptions, bool client)
    {
        configureOptions?.Invoke(services.AddOptions<NatsClusteringOptions>());
        services.AddNatsConnection();
        services.TryAddSingleton(static sp =>
        {
            var options = sp.GetRequiredService<IOptions<NatsClusteringOptions>>().Value;
            return new NatsMembershipTable(
                options,
                sp.GetRequiredService<IOptions<ClusterOptions>>().Value,
                sp.GetNatsConnection(options.ConnectionServiceKey),
                sp.GetService<TimeProvider>(),
                sp.GetService<ILogger<NatsMembershipTable>>());
        });
        services.AddTransient<IConfigurationValidator>(static sp => new NatsOptionsValidator<NatsClusteringOptions>(
            "NATS clustering", null, sp.GetRequiredService<IOptions<NatsClusteringOptions>>().Value));
        if (client)
        {
            services.AddSingleton<IGatewayListProvider>(static sp => new NatsGatewayListProvider(
                sp.GetRequiredService<NatsMembershipTable>(),
                sp.GetRequiredService<IOptions<GatewayOptions>>().Value.GatewayListRefreshPeriod));
        }
        else
        {
            services.AddSingleton<IMembershipTable>(static sp => sp.GetRequiredService<NatsMembershipTable>());
            services.ConfigureFormatter<NatsClusteringOptions>();
        }
    }

    public static void AddGrainDirectory(IServiceCollection services, string name, Action<OptionsBuilder<NatsGrainDirectoryOptions>>? configureOptions)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        configureOptions?.Invoke(services.AddOptions<NatsGrainDirectoryOptions>(name));
        services.AddNatsConnection();
        services.AddTransient<IConfigurationValidator>(sp => new NatsOptionsValidator<NatsGrainDirectoryOptions>(
            "NATS grain directory", name, sp.GetRequiredService<IOptionsMonitor<NatsGrainDirectoryOptions>>().Get(name)));
        services.ConfigureNamedOptionForLogging<NatsGrainDirectoryOptions>(name);
        services.AddGrainDirectory(name, static (sp, n) =>
        {
            var options = sp.GetRequiredService<IOptionsMonitor<NatsGrainDirectoryOptions>>().Get(n);
            return new NatsGrainDirectory(
                n,
                options,
                sp.GetRequiredService<IOptions<ClusterOptions>>().Value,
                sp.GetNatsConnection(options.ConnectionServiceKey),
                sp.GetService<TimeProvider>(),
                sp.GetService<ILogger<NatsGrainDirectory>>());
        });
    }
}
