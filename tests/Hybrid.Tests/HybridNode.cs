using CacheProvider.Caching;
using CacheProvider.Connection;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CacheProvider.Hybrid.Tests;

/// <summary>One app node: its own container, NATS connection, HybridCache and (optionally) invalidation.</summary>
internal sealed class HybridNode : IAsyncDisposable
{
    private readonly ServiceProvider _sp;

    private HybridNode(ServiceProvider sp) => _sp = sp;

    public HybridCache Hybrid => _sp.GetRequiredService<HybridCache>();

    public NatsDistributedCache L2 => _sp.GetRequiredService<NatsDistributedCache>();

    public IMemoryCache L1 => _sp.GetRequiredService<IMemoryCache>();

    public NatsHybridCacheInvalidator Invalidator => _sp.GetRequiredService<NatsHybridCacheInvalidator>();

    public IServiceProvider Services => _sp;

    public static Task<HybridNode> StartAsync(NatsServer server, string bucket, bool invalidation = true) =>
        StartAsync(services =>
        {
            services.AddNatsConnection(o => o.Url = server.Url)
                .AddNatsDistributedCache(o => o.Bucket = bucket)
                .AddHybridCache();
            if (invalidation)
            {
                services.AddNatsHybridCacheInvalidation();
            }
        });

    /// <summary>A node with the services <paramref name="configure"/> registers; waits for every invalidator's watch.</summary>
    public static async Task<HybridNode> StartAsync(Action<IServiceCollection> configure)
    {
        var services = new ServiceCollection();
        configure(services);
        var node = new HybridNode(services.BuildServiceProvider());
        foreach (var hosted in node._sp.GetServices<IHostedService>())
        {
            await hosted.StartAsync(CancellationToken.None);
        }

        foreach (var invalidator in node._sp.GetServices<IHostedService>().OfType<NatsHybridCacheInvalidator>())
        {
            await invalidator.WhenActive.WaitAsync(TimeSpan.FromSeconds(15));
        }

        return node;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var hosted in _sp.GetServices<IHostedService>())
        {
            await hosted.StopAsync(CancellationToken.None);
        }

        await _sp.DisposeAsync();
    }
}
