using CacheProvider.Caching;
using CacheProvider.Connection;
using CacheProvider.Hybrid;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CacheProvider.Bench.Ycsb;

/// <summary>One node's cache, as an app would register it, behind the two operations the workload needs.</summary>
internal sealed class Store : IAsyncDisposable
{
    // HybridCache's factory result for a key the preload did not reach: never expected, counted as a miss.
    private static readonly byte[] Missing = [];
    private static readonly DistributedCacheEntryOptions NoExpiry = new();
    private readonly ServiceProvider _services;
    private readonly IDistributedCache? _cache;
    private readonly HybridCache? _hybrid;

    private Store(ServiceProvider services, IDistributedCache? cache, HybridCache? hybrid, NatsDistributedCache? nats)
    {
        _services = services;
        _cache = cache;
        _hybrid = hybrid;
        Nats = nats;
    }

    /// <summary>Our cache when the store is (or sits on) it: the invalidation-delay probe watches it.</summary>
    public NatsDistributedCache? Nats { get; }

    public static async Task<Store> CreateAsync(StoreKind kind, string natsUrl, string redisConfiguration, CancellationToken cancellationToken)
    {
        var services = new ServiceCollection();
        var slug = kind.Slug();
        switch (kind)
        {
            case StoreKind.Redis:
            case StoreKind.HybridRedis:
                services.AddStackExchangeRedisCache(o =>
                {
                    o.Configuration = redisConfiguration;
                    o.InstanceName = slug + ":";
                });
                break;
            default:
                services.AddNatsConnection(o => o.Url = natsUrl);
                services.AddNatsDistributedCache(o =>
                {
                    o.Bucket = "ycsb_" + slug;
                    o.NearCacheEnabled = kind == StoreKind.NatsNear;
                    o.NearCacheMaxEntries = 100_000;
                });
                break;
        }

        if (kind is StoreKind.HybridRedis or StoreKind.HybridNats)
        {
            // Entries live for the whole run in both layers: only invalidation (or its absence) decides what B sees.
            services.AddHybridCache(o => o.DefaultEntryOptions = new HybridCacheEntryOptions
            {
                Expiration = TimeSpan.FromHours(1),
                LocalCacheExpiration = TimeSpan.FromHours(1),
            });
            if (kind == StoreKind.HybridNats)
            {
                services.AddNatsHybridCacheInvalidation();
            }
        }

        var provider = services.BuildServiceProvider();
        foreach (var hosted in provider.GetServices<IHostedService>())
        {
            await hosted.StartAsync(cancellationToken).ConfigureAwait(false);
        }

        if (kind == StoreKind.HybridNats)
        {
            await provider.GetRequiredService<NatsHybridCacheInvalidator>().WhenActive.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        }

        var cache = provider.GetRequiredService<IDistributedCache>();
        var hybrid = kind is StoreKind.HybridRedis or StoreKind.HybridNats ? provider.GetRequiredService<HybridCache>() : null;
        return new Store(provider, hybrid is null ? cache : null, hybrid, cache as NatsDistributedCache);
    }

    /// <summary>The value, or null on a miss.</summary>
    public async ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken)
    {
        if (_hybrid is not null)
        {
            var value = await _hybrid.GetOrCreateAsync(key, static _ => ValueTask.FromResult(Missing), cancellationToken: cancellationToken).ConfigureAwait(false);
            return value.Length == 0 ? null : value;
        }

        return await _cache!.GetAsync(key, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask SetAsync(string key, byte[] value, CancellationToken cancellationToken) =>
        _hybrid is not null
            ? _hybrid.SetAsync(key, value, cancellationToken: cancellationToken)
            : new ValueTask(_cache!.SetAsync(key, value, NoExpiry, cancellationToken));

    public async ValueTask DisposeAsync()
    {
        foreach (var hosted in _services.GetServices<IHostedService>())
        {
            await hosted.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }

        await _services.DisposeAsync().ConfigureAwait(false);
    }
}
