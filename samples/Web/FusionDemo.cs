using CacheProvider.Caching;
using CacheProvider.Connection;
using CacheProvider.FusionCache;
using Microsoft.Extensions.DependencyInjection;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;

namespace CacheProvider.Samples.Web;

/// <summary>
/// Two FusionCache "nodes" in this process (each its own container and NATS connection, as two app instances would
/// have) with our NATS cache as L2 and the NATS backplane: a Set on one changes the other's L1 at once, although each
/// L1 would otherwise keep its copy for ten minutes.
/// </summary>
internal sealed class FusionDemo : IAsyncDisposable
{
    public const string Key = "greeting";
    private readonly ServiceProvider _a;
    private readonly ServiceProvider _b;

    public FusionDemo(WebDemoOptions options)
    {
        _a = Node(options);
        _b = Node(options);
    }

    public IFusionCache NodeA => _a.GetRequiredService<IFusionCache>();

    public IFusionCache NodeB => _b.GetRequiredService<IFusionCache>();

    public async Task<object> ReadBothAsync(CancellationToken cancellationToken) => new
    {
        a = await NodeA.GetOrDefaultAsync<string>(Key, token: cancellationToken).ConfigureAwait(false),
        b = await NodeB.GetOrDefaultAsync<string>(Key, token: cancellationToken).ConfigureAwait(false),
    };

    public async ValueTask DisposeAsync()
    {
        await _a.DisposeAsync().ConfigureAwait(false);
        await _b.DisposeAsync().ConfigureAwait(false);
    }

    private static ServiceProvider Node(WebDemoOptions options)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddNatsConnection(o => o.Url = options.NatsUrl);
        services.AddNatsDistributedCache(o => o.Bucket = "web-fusion" + options.BucketSuffix);
        services.AddFusionCache()
            .WithOptions(o => o.WaitForInitialBackplaneSubscribe = true)
            .WithDefaultEntryOptions(o => o.Duration = TimeSpan.FromMinutes(10))
            .WithSerializer(new FusionCacheSystemTextJsonSerializer())
            .WithRegisteredDistributedCache()
            .WithNatsBackplane(o => o.SubjectPrefix = "webdemo" + options.BucketSuffix);
        return services.BuildServiceProvider();
    }
}
