using CacheProvider.Connection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ZiggyCreatures.Caching.Fusion;

namespace CacheProvider.FusionCache;

/// <summary>Registers <see cref="NatsBackplane"/> as the backplane of a FusionCache.</summary>
public static class NatsBackplaneFusionCacheBuilderExtensions
{
    /// <summary>
    /// Uses the NATS backplane for this cache, on the app's NATS.Net connection (<c>AddNatsClient</c>, or
    /// <see cref="NatsConnectionServiceCollectionExtensions.AddNatsConnection(IServiceCollection, Action{NatsConnectionOptions}?)"/>,
    /// which this calls: with no connection registered, one comes from the <c>Nats</c> configuration section).
    /// Options are named after the cache (<see cref="IFusionCacheBuilder.CacheName"/>): anything configured for that
    /// name (e.g. <c>services.Configure&lt;NatsBackplaneOptions&gt;(cacheName, section)</c>) applies, then <paramref name="configure"/>.
    /// </summary>
    public static IFusionCacheBuilder WithNatsBackplane(this IFusionCacheBuilder builder, Action<NatsBackplaneOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<NatsBackplaneOptions>(builder.CacheName);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return AddCore(builder);
    }

    /// <summary>Like <see cref="WithNatsBackplane(IFusionCacheBuilder, Action{NatsBackplaneOptions}?)"/>, with the options bound from <paramref name="section"/> (e.g. <c>FusionCache:Backplane</c>).</summary>
    public static IFusionCacheBuilder WithNatsBackplane(this IFusionCacheBuilder builder, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(section);
        builder.Services.AddOptions<NatsBackplaneOptions>(builder.CacheName).Bind(section);
        return AddCore(builder);
    }

    private static IFusionCacheBuilder AddCore(IFusionCacheBuilder builder)
    {
        builder.Services.AddNatsConnection();
        var cacheName = builder.CacheName;
        return builder.WithBackplane(sp =>
        {
            var options = sp.GetRequiredService<IOptionsMonitor<NatsBackplaneOptions>>().Get(cacheName);
            return new NatsBackplane(sp.GetNatsConnection(options.ConnectionKey), options, sp.GetService<ILogger<NatsBackplane>>());
        });
    }
}
