using CacheProvider.Grains;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Providers;

namespace Orleans.Hosting;

/// <summary>
/// Silo configuration of the NATS JetStream KV providers (CacheProvider.Grains), in the shape of Orleans' own:
/// <c>siloBuilder.AddNatsGrainStorage("name", o =&gt; …)</c>, <c>AddNatsGrainStorageAsDefault(…)</c>,
/// <c>UseNatsReminderService(o =&gt; …)</c>. See <see cref="NatsGrainsServiceCollectionExtensions"/> for what each registers.
/// </summary>
public static class NatsSiloBuilderExtensions
{
    /// <summary>Adds a grain storage provider named <paramref name="name"/>.</summary>
    public static ISiloBuilder AddNatsGrainStorage(this ISiloBuilder builder, string name, Action<NatsGrainStorageOptions> configureOptions)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.ConfigureServices(services => services.AddNatsGrainStorage(name, configureOptions));
    }

    /// <summary>Adds a grain storage provider named <paramref name="name"/>, configuring its options with an options builder.</summary>
    public static ISiloBuilder AddNatsGrainStorage(this ISiloBuilder builder, string name, Action<OptionsBuilder<NatsGrainStorageOptions>>? configureOptions = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.ConfigureServices(services => services.AddNatsGrainStorage(name, configureOptions));
    }

    /// <summary>Adds a grain storage provider with settings bound from <paramref name="section"/>.</summary>
    public static ISiloBuilder AddNatsGrainStorage(this ISiloBuilder builder, string name, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.ConfigureServices(services => services.AddNatsGrainStorage(name, section));
    }

    /// <summary>Adds the default grain storage provider (<see cref="ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME"/>).</summary>
    public static ISiloBuilder AddNatsGrainStorageAsDefault(this ISiloBuilder builder, Action<NatsGrainStorageOptions> configureOptions) =>
        builder.AddNatsGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, configureOptions);

    /// <summary>Adds the default grain storage provider, configuring its options with an options builder.</summary>
    public static ISiloBuilder AddNatsGrainStorageAsDefault(this ISiloBuilder builder, Action<OptionsBuilder<NatsGrainStorageOptions>>? configureOptions = null) =>
        builder.AddNatsGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, configureOptions);

    /// <summary>Not needed any more (see <see cref="NatsGrainsServiceCollectionExtensions.AddNatsGrainStateWatcher"/>): applies <paramref name="configureOptions"/> to the storage's <see cref="NatsGrainStorageOptions.Watch"/>.</summary>
    [Obsolete("The storage watches by itself; set NatsGrainStorageOptions.Watch instead.")]
    public static ISiloBuilder AddNatsGrainStateWatcher(this ISiloBuilder builder, string storageName, Action<GrainStateWatcherOptions>? configureOptions = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.ConfigureServices(services => services.AddNatsGrainStateWatcher(storageName, configureOptions));
    }

    /// <summary>Uses the NATS reminder table for the silo's reminder service.</summary>
    public static ISiloBuilder UseNatsReminderService(this ISiloBuilder builder, Action<NatsReminderTableOptions> configureOptions)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.ConfigureServices(services => services.UseNatsReminderService(configureOptions));
    }

    /// <summary>Uses the NATS reminder table, configuring its options with an options builder.</summary>
    public static ISiloBuilder UseNatsReminderService(this ISiloBuilder builder, Action<OptionsBuilder<NatsReminderTableOptions>>? configureOptions = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.ConfigureServices(services => services.UseNatsReminderService(configureOptions));
    }

    /// <summary>Uses the NATS reminder table with settings bound from <paramref name="section"/>.</summary>
    public static ISiloBuilder UseNatsReminderService(this ISiloBuilder builder, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.ConfigureServices(services => services.UseNatsReminderService(section));
    }
}
