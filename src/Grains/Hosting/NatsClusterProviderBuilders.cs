using CacheProvider.Grains;
using CacheProvider.Grains.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.GrainDirectory;
using Orleans.Hosting;
using Orleans.Providers;

// Configuration-driven set-up of an Orleans cluster on NATS alone, for silos and clients from one configuration:
// Orleans:Clustering:ProviderType = "Nats" (silo and client), Orleans:GrainDirectory:<name>:ProviderType = "Nats" (silo;
// a client has no directory, so its builder does nothing), and client builders that do nothing for the silo-only
// GrainStorage and Reminders providers (a client applies those sections too, and fails on a provider type it does not
// know). "NatsServer" is the provider type Aspire emits for a NATS resource.
[assembly: RegisterProvider("Nats", "Clustering", "Silo", typeof(NatsClusteringSiloProviderBuilder))]
[assembly: RegisterProvider("NatsServer", "Clustering", "Silo", typeof(NatsClusteringSiloProviderBuilder))]
[assembly: RegisterProvider("Nats", "Clustering", "Client", typeof(NatsClusteringClientProviderBuilder))]
[assembly: RegisterProvider("NatsServer", "Clustering", "Client", typeof(NatsClusteringClientProviderBuilder))]
[assembly: RegisterProvider("Nats", "GrainDirectory", "Silo", typeof(NatsGrainDirectoryProviderBuilder))]
[assembly: RegisterProvider("NatsServer", "GrainDirectory", "Silo", typeof(NatsGrainDirectoryProviderBuilder))]
[assembly: RegisterProvider("Nats", "GrainDirectory", "Client", typeof(NatsSiloOnlyClientProviderBuilder))]
[assembly: RegisterProvider("NatsServer", "GrainDirectory", "Client", typeof(NatsSiloOnlyClientProviderBuilder))]
[assembly: RegisterProvider("Nats", "GrainStorage", "Client", typeof(NatsSiloOnlyClientProviderBuilder))]
[assembly: RegisterProvider("NatsServer", "GrainStorage", "Client", typeof(NatsSiloOnlyClientProviderBuilder))]
[assembly: RegisterProvider("Nats", "Reminders", "Client", typeof(NatsSiloOnlyClientProviderBuilder))]
[assembly: RegisterProvider("NatsServer", "Reminders", "Client", typeof(NatsSiloOnlyClientProviderBuilder))]

namespace CacheProvider.Grains.Hosting;

/// <summary>Orleans <c>IProviderBuilder</c> for <c>Orleans:Clustering:ProviderType = "Nats"</c> on a silo.</summary>
internal sealed class NatsClusteringSiloProviderBuilder : IProviderBuilder<ISiloBuilder>
{
    public void Configure(ISiloBuilder builder, string? name, IConfigurationSection configurationSection)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configurationSection);
        NatsProviderConfiguration.AddConnection(builder.Services, builder.Configuration, configurationSection);
        builder.UseNatsClustering((OptionsBuilder<NatsClusteringOptions> options) => NatsClusteringConfiguration.Bind(options, configurationSection));
    }
}

/// <summary>Orleans <c>IProviderBuilder</c> for <c>Orleans:Clustering:ProviderType = "Nats"</c> on a client.</summary>
internal sealed class NatsClusteringClientProviderBuilder : IProviderBuilder<IClientBuilder>
{
    public void Configure(IClientBuilder builder, string? name, IConfigurationSection configurationSection)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configurationSection);
        NatsProviderConfiguration.AddConnection(builder.Services, builder.Configuration, configurationSection);
        builder.UseNatsClustering((OptionsBuilder<NatsClusteringOptions> options) => NatsClusteringConfiguration.Bind(options, configurationSection));
    }
}

/// <summary>Orleans <c>IProviderBuilder</c> for <c>Orleans:GrainDirectory:&lt;name&gt;:ProviderType = "Nats"</c> on a silo.</summary>
internal sealed class NatsGrainDirectoryProviderBuilder : IProviderBuilder<ISiloBuilder>
{
    public void Configure(ISiloBuilder builder, string? name, IConfigurationSection configurationSection)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configurationSection);
        NatsProviderConfiguration.AddConnection(builder.Services, builder.Configuration, configurationSection);
        builder.AddNatsGrainDirectory(name ?? GrainDirectoryAttribute.DEFAULT_GRAIN_DIRECTORY, (OptionsBuilder<NatsGrainDirectoryOptions> options) => options
            .Bind(configurationSection)
            .Configure(o =>
            {
                if (configurationSection[NatsProviderConfiguration.ServiceKey] is { Length: > 0 } serviceKey)
                {
                    o.ConnectionServiceKey = serviceKey;
                }
            }));
    }
}

/// <summary>
/// The client side of a provider only silos have (grain directory, grain storage, reminders): nothing to register, so
/// a client built from the silos' configuration starts.
/// </summary>
internal sealed class NatsSiloOnlyClientProviderBuilder : IProviderBuilder<IClientBuilder>
{
    public void Configure(IClientBuilder builder, string? name, IConfigurationSection configurationSection)
    {
    }
}

/// <summary>Binding of a clustering configuration section (silo and client alike).</summary>
internal static class NatsClusteringConfiguration
{
    public static void Bind(OptionsBuilder<NatsClusteringOptions> options, IConfigurationSection section) =>
        options.Bind(section).Configure(o =>
        {
            if (section[NatsProviderConfiguration.ServiceKey] is { Length: > 0 } serviceKey)
            {
                o.ConnectionServiceKey = serviceKey;
            }
        });
}
