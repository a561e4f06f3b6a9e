using CacheProvider.Nats;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CacheProvider.Connection;

/// <summary>Registers the <see cref="NatsConnection"/> everything else in this package shares.</summary>
public static class NatsConnectionServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="NatsConnection"/> (unless one is registered already). It connects on first
    /// use, so resolving it never fails because the server is down.
    /// </summary>
    public static IServiceCollection AddNatsConnection(this IServiceCollection services, Action<NatsConnectionOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<NatsConnectionOptions>().Configure(configure).ValidateDataAnnotations().Validate(Valid, "Invalid NATS connection options").ValidateOnStart();
        services.TryAddSingleton(Create);
        return services;
    }

    /// <summary>Registers the shared connection with settings bound from <paramref name="section"/> (e.g. <c>Nats</c>).</summary>
    public static IServiceCollection AddNatsConnection(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);
        services.AddOptions<NatsConnectionOptions>().Bind(section).ValidateDataAnnotations().Validate(Valid, "Invalid NATS connection options").ValidateOnStart();
        services.TryAddSingleton(Create);
        return services;
    }

    /// <summary>Registers a keyed connection (several servers or accounts in one app).</summary>
    public static IServiceCollection AddKeyedNatsConnection(this IServiceCollection services, string key, Action<NatsConnectionOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<NatsConnectionOptions>(key).Configure(configure).ValidateDataAnnotations().Validate(Valid, "Invalid NATS connection options").ValidateOnStart();
        services.TryAddKeyedSingleton(key, (sp, k) =>
        {
            var options = sp.GetRequiredService<IOptionsMonitor<NatsConnectionOptions>>().Get((string)k!);
            return new NatsConnection(options.ToNatsOptions(sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance));
        });
        return services;
    }

    private static NatsConnection Create(IServiceProvider sp)
    {
        var options = sp.GetRequiredService<IOptions<NatsConnectionOptions>>().Value;
        return new NatsConnection(options.ToNatsOptions(sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance));
    }

    private static bool Valid(NatsConnectionOptions options)
    {
        try
        {
            options.ToNatsOptions(NullLoggerFactory.Instance);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
