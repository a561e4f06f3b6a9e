using CacheProvider.Grains;
using CacheProvider.Grains.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.GrainDirectory;

namespace Orleans.Hosting;

/// <summary>
/// An Orleans cluster on NATS alone: membership and gateways (<c>UseNatsClustering</c>, silo and client) and grain
/// directories (<c>AddNatsGrainDirectory</c>, <c>UseNatsGrainDirectoryAsDefault</c>) in a NATS KV bucket, on the app's
/// NATS.Net <c>INatsConnection</c> (unkeyed, or keyed by <c>ConnectionServiceKey</c>; registered from the <c>Nats</c>
/// configuration section when the app has none). Keys are namespaced by <c>ClusterOptions.ServiceId</c> and
/// <c>ClusterId</c>. Needs nats-server 2.12+ (atomic batch publish).
/// </summary>
public static class NatsClusteringBuilderExtensions
{
    /// <summary>Uses NATS for the silo's cluster membership (<see cref="NatsMembershipTable"/>).</summary>
    public static ISiloBuilder UseNatsClustering(this ISiloBuilder builder, Action<NatsClusteringOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseNatsClustering((OptionsBuilder<NatsClusteringOptions> options) => Configure(options, configure));
    }

    /// <summary>Uses NATS for the silo's cluster membership, configuring its options with an options builder.</summary>
    public static ISiloBuilder UseNatsClustering(this ISiloBuilder builder, Action<OptionsBuilder<NatsClusteringOptions>> configureOptions)
    {
        ArgumentNullException.ThrowIfNull(builder);
        NatsClusteringRegistration.AddClustering(builder.Services, configureOptions, client: false);
        return builder;
    }

    /// <summary>Uses NATS for the silo's cluster membership, with settings bound from <paramref name="section"/>.</summary>
    public static ISiloBuilder UseNatsClustering(this ISiloBuilder builder, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return builder.UseNatsClustering((OptionsBuilder<NatsClusteringOptions> options) => options.Bind(section));
    }

    /// <summary>Finds the cluster's gateways in NATS (<see cref="NatsGatewayListProvider"/>).</summary>
    public static IClientBuilder UseNatsClustering(this IClientBuilder builder, Action<NatsClusteringOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseNatsClustering((OptionsBuilder<NatsClusteringOptions> options) => Configure(options, configure));
    }

    /// <summary>Finds the cluster's gateways in NATS, configuring the options with an options builder.</summary>
    public static IClientBuilder UseNatsClustering(this IClientBuilder builder, Action<OptionsBuilder<NatsClusteringOptions>> configureOptions)
    {
        ArgumentNullException.ThrowIfNull(builder);
        NatsClusteringRegistration.AddClustering(builder.Services, configureOptions, client: true);
        return builder;
    }

    /// <summary>Finds the cluster's gateways in NATS, with settings bound from <paramref name="section"/>.</summary>
    public static IClientBuilder UseNatsClustering(this IClientBuilder builder, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return builder.UseNatsClustering((OptionsBuilder<NatsClusteringOptions> options) => options.Bind(section));
    }

    /// <summary>
    /// Adds a grain directory named <paramref name="name"/> (<see cref="NatsGrainDirectory"/>), used by grain classes
    /// marked <c>[GrainDirectory("name")]</c>; the name <c>default</c> serves every other grain.
    /// </summary>
    public static ISiloBuilder AddNatsGrainDirectory(this ISiloBuilder builder, string name, Action<NatsGrainDirectoryOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddNatsGrainDirectory(name, (OptionsBuilder<NatsGrainDirectoryOptions> options) => Configure(options, configure));
    }

    /// <summary>Adds a grain directory named <paramref name="name"/>, configuring its options with an options builder.</summary>
    public static ISiloBuilder AddNatsGrainDirectory(this ISiloBuilder builder, string name, Action<OptionsBuilder<NatsGrainDirectoryOptions>> configureOptions)
    {
        ArgumentNullException.ThrowIfNull(builder);
        NatsClusteringRegistration.AddGrainDirectory(builder.Services, name, configureOptions);
        return builder;
    }

    /// <summary>Adds a grain directory named <paramref name="name"/>, with settings bound from <paramref name="section"/>.</summary>
    public static ISiloBuilder AddNatsGrainDirectory(this ISiloBuilder builder, string name, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return builder.AddNatsGrainDirectory(name, (OptionsBuilder<NatsGrainDirectoryOptions> options) => options.Bind(section));
    }

    /// <summary>Makes a NATS grain directory the default one (<see cref="GrainDirectoryAttribute.DEFAULT_GRAIN_DIRECTORY"/>), serving every grain without <c>[GrainDirectory]</c>.</summary>
    public static ISiloBuilder UseNatsGrainDirectoryAsDefault(this ISiloBuilder builder, Action<NatsGrainDirectoryOptions>? configure = null) =>
        builder.AddNatsGrainDirectory(GrainDirectoryAttribute.DEFAULT_GRAIN_DIRECTORY, configure);

    /// <summary>Makes a NATS grain directory the default one, configuring its options with an options builder.</summary>
    public static ISiloBuilder UseNatsGrainDirectoryAsDefault(this ISiloBuilder builder, Action<OptionsBuilder<NatsGrainDirectoryOptions>> configureOptions) =>
        builder.AddNatsGrainDirectory(GrainDirectoryAttribute.DEFAULT_GRAIN_DIRECTORY, configureOptions);

    private static void Configure<T>(OptionsBuilder<T> options, Action<T>? configure)
        where T : class
    {
        if (configure is not null)
        {
            options.Configure(configure);
        }
    }
}
