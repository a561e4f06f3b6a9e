using Microsoft.Extensions.Configuration;
using CacheProvider.KeyValue.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Extensions.Microsoft.DependencyInjection;

namespace CacheProvider.Connection;

/// <summary>
/// One NATS connection per process: every <c>AddNats…</c> of CacheProvider uses the <see cref="INatsConnection"/> the
/// app registered with NATS.Net (<c>AddNatsClient</c>, <c>AddNats</c>, or its own registration); when there is none,
/// one is registered the NATS.Net way (<c>AddNatsClient</c>) from the <c>Nats</c> configuration section.
/// </summary>
public static class NatsConnectionServiceCollectionExtensions
{
    /// <summary>The configuration section the shared connection binds when CacheProvider registers it.</summary>
    public const string DefaultSectionName = "Nats";

    /// <summary>
    /// Makes sure an <see cref="INatsConnection"/> is registered. If the app registered one, nothing changes (and
    /// <paramref name="configure"/> is ignored: NATS.Net's registration is the truth). Otherwise NATS.Net's
    /// <c>AddNatsClient</c> registers one whose options come from the <c>Nats</c> configuration section (when an
    /// <see cref="IConfiguration"/> is registered), then <paramref name="configure"/>. An <c>AddNatsClient</c> the app
    /// calls later still applies its options on top. Nothing connects before first use.
    /// </summary>
    public static IServiceCollection AddNatsConnection(this IServiceCollection services, Action<NatsConnectionOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (HasConnection(services) && !services.Any(d => d.ServiceType == typeof(SharedConnectionMarker)))
        {
            return services;
        }

        Register(services);
        if (configure is not null)
        {
            services.AddOptions<NatsConnectionOptions>().Configure(configure);
        }

        return services;
    }

    /// <summary>Like <see cref="AddNatsConnection(IServiceCollection, Action{NatsConnectionOptions}?)"/>, with the settings bound from <paramref name="section"/>.</summary>
    public static IServiceCollection AddNatsConnection(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);
        if (HasConnection(services) && !services.Any(d => d.ServiceType == typeof(SharedConnectionMarker)))
        {
            return services;
        }

        Register(services);
        services.AddOptions<NatsConnectionOptions>().Bind(section);
        return services;
    }

    /// <summary>
    /// The connection a CacheProvider component uses: the keyed one registered under <paramref name="serviceKey"/>
    /// (e.g. with NATS.Net's <c>AddNatsClient(b =&gt; b.WithKey(key))</c>), or the app's default one.
    /// </summary>
    /// <exception cref="InvalidOperationException">No such connection is registered.</exception>
    public static INatsConnection GetNatsConnection(this IServiceProvider services, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        return serviceKey is null ? services.GetRequiredService<INatsConnection>() : services.GetRequiredKeyedService<INatsConnection>(serviceKey);
    }

    private static bool HasConnection(IServiceCollection services) =>
        services.Any(d => d.ServiceType == typeof(INatsConnection) && !d.IsKeyedService);

    private static void Register(IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(SharedConnectionMarker)))
        {
            return;
        }

        services.AddSingleton<SharedConnectionMarker>();
        services.AddSingleton<IConfigureOptions<NatsConnectionOptions>, BindNatsSection>();
        // Each problem named with its setting and why (never a secret), when the host starts.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NatsConnectionOptions>, NatsConnectionOptionsValidator>());
        services.AddOptions<NatsConnectionOptions>().ValidateOnStart();
        services.AddNatsClient(nats => nats.ConfigureOptions(builder =>
            builder.Configure<IOptions<NatsConnectionOptions>>((target, settings) => target.Opts = settings.Value.ApplyTo(target.Opts))));
    }

    /// <summary>Marks that CacheProvider registered the connection (so later calls may add settings to it).</summary>
    private sealed class SharedConnectionMarker;

    /// <summary>Binds the <c>Nats</c> section when the app has a configuration (first, so explicit settings win).</summary>
    private sealed class BindNatsSection(IConfiguration? configuration = null) : IConfigureOptions<NatsConnectionOptions>
    {
        public void Configure(NatsConnectionOptions options)
        {
            if (configuration?.GetSection(DefaultSectionName) is { } section && section.Exists())
            {
                section.Bind(options);
            }
        }
    }
}
