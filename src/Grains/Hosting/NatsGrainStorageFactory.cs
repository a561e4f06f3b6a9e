using CacheProvider.Connection;
using CacheProvider.Grains.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Serialization.Serializers;
using Orleans.Runtime;
using Orleans.Storage;

namespace CacheProvider.Grains;

/// <summary>Creates <see cref="NatsGrainStorage"/> instances from the service provider (the Orleans provider-factory shape).</summary>
public static class NatsGrainStorageFactory
{
    /// <summary>
    /// The storage named <paramref name="name"/>: its named <see cref="NatsGrainStorageOptions"/>, the app's NATS.Net
    /// connection (keyed by <see cref="NatsGrainStorageOptions.ConnectionServiceKey"/> when set) and the serializer
    /// <see cref="ResolveSerializer"/> picks.
    /// </summary>
    public static NatsGrainStorage Create(IServiceProvider services, string name)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(name);
        var options = services.GetRequiredService<IOptionsMonitor<NatsGrainStorageOptions>>().Get(name);
        var storage = new NatsGrainStorage(
            name,
            options,
            services.GetNatsConnection(options.ConnectionServiceKey),
            ResolveSerializer(services, name, options),
            services.GetService<TimeProvider>(),
            services.GetService<ILogger<NatsGrainStorage>>(),
            services.GetService<IActivatorProvider>(),
            services.GetService<IGrainContextAccessor>());
        if (services.GetService<ActivationWatchConfigurator>() is { } configurator)
        {
            storage.UseActivationWatches(configurator);
        }

        return storage;
    }

    /// <summary>
    /// The serializer of the storage named <paramref name="name"/>: <see cref="NatsGrainStorageOptions.GrainStorageSerializer"/>,
    /// else an <see cref="IGrainStorageSerializer"/> registered keyed by <paramref name="name"/>, else one registered
    /// unkeyed, else <see cref="NatsJsonGrainStorageSerializer"/> (System.Text.Json). Every silo registers Orleans'
    /// Newtonsoft.Json <see cref="JsonGrainStorageSerializer"/> unkeyed as its fallback: an unkeyed serializer of exactly
    /// that type is that fallback, not the app's choice, and is skipped (to store Newtonsoft.Json, set it in the
    /// options or register it keyed by the provider name).
    /// </summary>
    public static IGrainStorageSerializer ResolveSerializer(IServiceProvider services, string name, NatsGrainStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        if (options.GrainStorageSerializer is { } configured)
        {
            return configured;
        }

        if (services.GetKeyedService<IGrainStorageSerializer>(name) is { } keyed)
        {
            return keyed;
        }

        var unkeyed = services.GetService<IGrainStorageSerializer>();
        return unkeyed is not null && unkeyed.GetType() != typeof(JsonGrainStorageSerializer) ? unkeyed : new NatsJsonGrainStorageSerializer();
    }
}
