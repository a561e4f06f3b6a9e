using CacheProvider.Connection;
using CacheProvider.Grains;
using CacheProvider.Grains.Hosting;
using CacheProvider.Grains.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Providers;
using Orleans.Runtime;
using Orleans.Runtime.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers the NATS grain storage (with its state watch and deactivation on a change) and reminder table the way Orleans' own providers register:
/// named options, an <see cref="IConfigurationValidator"/> per provider (run when the silo starts), the storage as a
/// keyed <c>IGrainStorage</c> and a silo lifecycle participant, options logged at start. An empty <c>ServiceId</c> is
/// Orleans' <see cref="ClusterOptions.ServiceId"/>. The NATS connection is the app's NATS.Net
/// <see cref="INatsConnection"/> (unkeyed, or keyed by <c>ConnectionServiceKey</c>); <see cref="NatsConnectionServiceCollectionExtensions.AddNatsConnection(IServiceCollection, Action{NatsConnectionOptions}?)"/>
/// registers one (from the <c>Nats</c> configuration section) when the app has none.
/// Silo code uses the <see cref="ISiloBuilder"/> forms in <see cref="NatsSiloBuilderExtensions"/>.
/// </summary>
public static class NatsGrainsServiceCollectionExtensions
{
    /// <summary>Orleans' default storage provider name (<see cref="ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME"/>).</summary>
    public const string DefaultStorageName = ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME;

    /// <summary>Registers a grain storage provider named <paramref name="name"/>.</summary>
    public static IServiceCollection AddNatsGrainStorage(this IServiceCollection services, string name, Action<NatsGrainStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return AddNatsGrainStorage(services, name, builder => builder.Configure(configure));
    }

    /// <summary>Registers a grain storage provider with settings bound from <paramref name="section"/>.</summary>
    public static IServiceCollection AddNatsGrainStorage(this IServiceCollection services, string name, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return AddNatsGrainStorage(services, name, builder => builder.Bind(section));
    }

    /// <summary>Registers the provider named <c>"Default"</c>, which is also the unkeyed <c>IGrainStorage</c>.</summary>
    public static IServiceCollection AddNatsGrainStorageAsDefault(this IServiceCollection services, Action<NatsGrainStorageOptions> configure) =>
        AddNatsGrainStorage(services, DefaultStorageName, configure);

    /// <summary>Registers the provider named <c>"Default"</c>, configuring its options with <paramref name="configureOptions"/>.</summary>
    public static IServiceCollection AddNatsGrainStorageAsDefault(this IServiceCollection services, Action<OptionsBuilder<NatsGrainStorageOptions>>? configureOptions = null) =>
        AddNatsGrainStorage(services, DefaultStorageName, configureOptions);

    /// <summary>Registers a grain storage provider, configuring its named options with <paramref name="configureOptions"/>.</summary>
    public static IServiceCollection AddNatsGrainStorage(this IServiceCollection services, string name, Action<OptionsBuilder<NatsGrainStorageOptions>>? configureOptions = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(name);
        configureOptions?.Invoke(services.AddOptions<NatsGrainStorageOptions>(name));
        AddCommon(services);
        services.AddTransient<IConfigurationValidator>(sp => new NatsOptionsValidator<NatsGrainStorageOptions>(
            "NATS grain storage", name, sp.GetRequiredService<IOptionsMonitor<NatsGrainStorageOptions>>().Get(name), NatsGrainStorageOptionsChecks.Check));
        services.ConfigureNamedOptionForLogging<NatsGrainStorageOptions>(name);
        services.AddKeyedSingleton(name, static (sp, key) => NatsGrainStorageFactory.Create(sp, (string)key!));

        // The storage's own watch, for the rare keys a grain watches by hand (GrainStateWatcher.Register).
        services.AddKeyedSingleton(name, static (sp, key) => sp.GetRequiredKeyedService<NatsGrainStorage>(key).Watcher);

        // The declared type is the concrete class, so Orleans also registers it as a silo lifecycle participant.
        return services.AddGrainStorage(name, static (sp, n) => sp.GetRequiredKeyedService<NatsGrainStorage>(n));
    }

    /// <summary>
    /// Not needed any more: every NATS grain storage has its <see cref="GrainStateWatcher"/> (keyed by the storage name)
    /// and deactivates the activations it reads for by itself (<see cref="NatsGrainStorageOptions.DeactivateOnStateChange"/>).
    /// This only applies <paramref name="configure"/> to the storage's <see cref="NatsGrainStorageOptions.Watch"/>.
    /// </summary>
    [Obsolete("The storage watches by itself; set NatsGrainStorageOptions.Watch instead.")]
    public static IServiceCollection AddNatsGrainStateWatcher(this IServiceCollection services, string storageName, Action<GrainStateWatcherOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(storageName);
        if (configure is not null)
        {
            services.Configure<NatsGrainStorageOptions>(storageName, o => configure(o.Watch));
        }

        return services;
    }

    /// <summary>Makes the <see cref="NatsReminderTable"/> the silo's (single, unkeyed) <c>IReminderTable</c> and adds Orleans' reminder service.</summary>
    public static IServiceCollection UseNatsReminderService(this IServiceCollection services, Action<NatsReminderTableOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return UseNatsReminderService(services, builder => builder.Configure(configure));
    }

    /// <summary>Like <see cref="UseNatsReminderService(IServiceCollection, Action{NatsReminderTableOptions})"/>, with settings bound from <paramref name="section"/>.</summary>
    public static IServiceCollection UseNatsReminderService(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return UseNatsReminderService(services, builder => builder.Bind(section));
    }

    /// <summary>Like <see cref="UseNatsReminderService(IServiceCollection, Action{NatsReminderTableOptions})"/>, configuring the options with <paramref name="configureOptions"/>.</summary>
    public static IServiceCollection UseNatsReminderService(this IServiceCollection services, Action<OptionsBuilder<NatsReminderTableOptions>>? configureOptions)
    {
        ArgumentNullException.ThrowIfNull(services);
        configureOptions?.Invoke(services.AddOptions<NatsReminderTableOptions>());
        AddCommon(services);
        services.AddReminders();
        services.TryAddSingleton(static sp =>
        {
            var options = sp.GetRequiredService<IOptions<NatsReminderTableOptions>>().Value;
            return new NatsReminderTable(options, sp.GetNatsConnection(options.ConnectionServiceKey), sp.GetService<TimeProvider>(), sp.GetService<ILogger<NatsReminderTable>>());
        });
        services.AddSingleton<IReminderTable>(static sp => sp.GetRequiredService<NatsReminderTable>());
        services.AddTransient<IConfigurationValidator>(static sp => new NatsOptionsValidator<NatsReminderTableOptions>(
            "NATS reminder table", null, sp.GetRequiredService<IOptions<NatsReminderTableOptions>>().Value, NatsReminderTableOptionsChecks.Check));
        services.ConfigureFormatter<NatsReminderTableOptions>();
        return services;
    }

    private static void AddCommon(IServiceCollection services)
    {
        services.AddOptions();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<NatsGrainStorageOptions>, ClusterServiceIdConfigurator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<NatsReminderTableOptions>, ClusterServiceIdConfigurator>());
        services.AddNatsConnection();
        if (!services.Any(static d => d.ServiceType == typeof(ActivationWatchConfigurator)))
        {
            services.AddSingleton<ActivationWatchConfigurator>();
            services.AddSingleton<IConfigureGrainContextProvider>(static sp => sp.GetRequiredService<ActivationWatchConfigurator>());
        }
    }
}
