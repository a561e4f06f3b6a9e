using CacheProvider.Connection;
using CacheProvider.Grains;
using Orleans;
using Orleans.Runtime;
using Orleans.Storage;
using NATS.Client.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers the NATS grain storage, reminder table and state watcher, following Orleans' provider pattern: keyed by
/// provider name, named options validated on start, serializer from options, else keyed, else unkeyed, else
/// System.Text.Json. The NATS.Net <see cref="INatsConnection"/> must be registered (unkeyed, or keyed by
/// <c>ConnectionServiceKey</c>).
/// </summary>
public static class NatsGrainsServiceCollectionExtensions
{
    /// <summary>Orleans' default storage provider name.</summary>
    public const string DefaultStorageName = "Default";

    /// <summary>Registers a grain storage provider named <paramref name="name"/> (keyed <see cref="IGrainStorage"/>).</summary>
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

    /// <summary>Registers the provider named <c>"Default"</c>, also as the unkeyed <see cref="IGrainStorage"/>.</summary>
    public static IServiceCollection AddNatsGrainStorageAsDefault(this IServiceCollection services, Action<NatsGrainStorageOptions> configure) =>
        AddNatsGrainStorage(services, DefaultStorageName, configure);

    /// <summary>Registers a grain storage provider, configuring its named options with <paramref name="configureOptions"/>.</summary>
    public static IServiceCollection AddNatsGrainStorage(this IServiceCollection services, string name, Action<OptionsBuilder<NatsGrainStorageOptions>> configureOptions)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configureOptions);
        var builder = services.AddOptions<NatsGrainStorageOptions>(name).ValidateDataAnnotations().ValidateOnStart();
        configureOptions(builder);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NatsGrainStorageOptions>, NatsGrainStorageOptionsValidator>());
        services.AddNatsConnection();
        services.AddKeyedSingleton(name, static (sp, key) => CreateStorage(sp, (string)key!));
        services.AddKeyedSingleton<IGrainStorage>(name, static (sp, key) => sp.GetRequiredKeyedService<NatsGrainStorage>(key));
        if (name == DefaultStorageName)
        {
            services.TryAddSingleton(static sp => sp.GetRequiredKeyedService<IGrainStorage>(DefaultStorageName));
        }

        return services;
    }

    /// <summary>
    /// Registers a <see cref="GrainStateWatcher"/> for the storage named <paramref name="storageName"/> (keyed by that
    /// name) and a hosted service that opens and closes its watch.
    /// </summary>
    public static IServiceCollection AddNatsGrainStateWatcher(this IServiceCollection services, string storageName, Action<GrainStateWatcherOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(storageName);
        var builder = services.AddOptions<GrainStateWatcherOptions>(storageName).ValidateDataAnnotations().ValidateOnStart();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        services.AddKeyedSingleton(storageName, static (sp, key) => new GrainStateWatcher(
            sp.GetRequiredKeyedService<NatsGrainStorage>(key),
            sp.GetRequiredService<IOptionsMonitor<GrainStateWatcherOptions>>().Get((string)key!),
            sp.GetService<ILogger<GrainStateWatcher>>()));
        services.AddSingleton<IHostedService>(sp => new GrainStateWatcherHostedService(sp.GetRequiredKeyedService<GrainStateWatcher>(storageName)));
        return services;
    }

    /// <summary>Registers the (single, unkeyed) <see cref="IReminderTable"/>.</summary>
    public static IServiceCollection AddNatsReminderTable(this IServiceCollection services, Action<NatsReminderTableOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return AddNatsReminderTable(services, builder => builder.Configure(configure));
    }

    /// <summary>Registers the reminder table with settings bound from <paramref name="section"/>.</summary>
    public static IServiceCollection AddNatsReminderTable(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return AddNatsReminderTable(services, builder => builder.Bind(section));
    }

    private static IServiceCollection AddNatsReminderTable(IServiceCollection services, Action<OptionsBuilder<NatsReminderTableOptions>> configureOptions)
    {
        ArgumentNullException.ThrowIfNull(services);
        configureOptions(services.AddOptions<NatsReminderTableOptions>().ValidateDataAnnotations().ValidateOnStart());
        services.AddNatsConnection();
        services.TryAddSingleton(static sp =>
        {
            var options = sp.GetRequiredService<IOptions<NatsReminderTableOptions>>().Value;
            return new NatsReminderTable(options, ResolveConnection(sp, options.ConnectionServiceKey), sp.GetService<TimeProvider>(), sp.GetService<ILogger<NatsReminderTable>>());
        });
        services.TryAddSingleton<IReminderTable>(static sp => sp.GetRequiredService<NatsReminderTable>());
        return services;
    }

    private static NatsGrainStorage CreateStorage(IServiceProvider sp, string name)
    {
        var options = sp.GetRequiredService<IOptionsMonitor<NatsGrainStorageOptions>>().Get(name);
        var serializer = options.GrainStorageSerializer
            ?? sp.GetKeyedService<IGrainStorageSerializer>(name)
            ?? sp.GetService<IGrainStorageSerializer>();
        return new NatsGrainStorage(name, options, ResolveConnection(sp, options.ConnectionServiceKey), serializer, sp.GetService<TimeProvider>(), sp.GetService<ILogger<NatsGrainStorage>>());
    }

    private static INatsConnection ResolveConnection(IServiceProvider sp, string? key) => sp.GetNatsConnection(key);
}
