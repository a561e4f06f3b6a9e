using CacheProvider.Caching.Behaviour;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CacheProvider.Grains.Caching.Tests;

/// <summary>
/// The shared IDistributedCache behaviour suite on the Orleans cache as a client app uses it (the cluster client's grain
/// factory); the other instance is the co-hosted one. One nats-server and one silo for the class.
/// </summary>
public sealed class ClientOrleansDistributedCacheBehaviourTests(CacheClusterFixture fixture)
    : DistributedCacheBehaviourTests, IClassFixture<CacheClusterFixture>
{
    private readonly OrleansDistributedCache _cache = fixture.Cluster.ClientCache;

    protected override IBufferDistributedCache Cache => _cache;

    protected override IBufferDistributedCache OtherCache => fixture.Cluster.SiloServices.GetRequiredService<IBufferDistributedCache>();

    // A cache key is the grain's key, and Orleans refuses blank grain keys.
    protected override bool RefusesBlankKeys => true;

    protected override TimeSpan SlidingExpiryTolerance(TimeSpan window) => OrleansCacheBehaviour.SlidingTolerance(fixture, window);
}

/// <summary>
/// The shared IDistributedCache behaviour suite on the Orleans cache co-hosted in the silo (the silo's grain factory);
/// the other instance is a cluster client's. One nats-server and one silo for the class.
/// </summary>
public sealed class CoHostedOrleansDistributedCacheBehaviourTests(CacheClusterFixture fixture)
    : DistributedCacheBehaviourTests, IClassFixture<CacheClusterFixture>
{
    private readonly OrleansDistributedCache _other = fixture.Cluster.ClientCache;

    protected override IBufferDistributedCache Cache => fixture.Cluster.SiloServices.GetRequiredService<IBufferDistributedCache>();

    protected override IBufferDistributedCache OtherCache => _other;

    // A cache key is the grain's key, and Orleans refuses blank grain keys.
    protected override bool RefusesBlankKeys => true;

    protected override TimeSpan SlidingExpiryTolerance(TimeSpan window) => OrleansCacheBehaviour.SlidingTolerance(fixture, window);
}

/// <summary>
/// The shared IDistributedCache behaviour suite on two front ends (cluster client, own NATS connections) with the near
/// cache on and live. One nats-server and one silo for the class.
/// </summary>
public sealed class NearCachedOrleansDistributedCacheBehaviourTests(NearCachedOrleansDistributedCacheBehaviourTests.Fixture fixture)
    : DistributedCacheBehaviourTests, IClassFixture<NearCachedOrleansDistributedCacheBehaviourTests.Fixture>
{
    protected override IBufferDistributedCache Cache => fixture.A.Cache;

    protected override IBufferDistributedCache OtherCache => fixture.B.Cache;

    // A cache key is the grain's key, and Orleans refuses blank grain keys.
    protected override bool RefusesBlankKeys => true;

    protected override TimeSpan SlidingExpiryTolerance(TimeSpan window) => OrleansCacheBehaviour.SlidingTolerance(fixture.Cluster, window);

    public sealed class Fixture : IAsyncLifetime
    {
        public CacheClusterFixture Cluster { get; } = new();

        public FrontEnd A { get; private set; } = null!;

        public FrontEnd B { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            await Cluster.InitializeAsync();
            A = await FrontEnd.StartAsync(Cluster.Cluster, Cluster.Server.Url, o => o.NearCacheEnabled = true);
            B = await FrontEnd.StartAsync(Cluster.Cluster, Cluster.Server.Url, o => o.NearCacheEnabled = true);
            await A.WaitNearCacheLiveAsync();
            await B.WaitNearCacheLiveAsync();
        }

        public async Task DisposeAsync()
        {
            if (A is not null)
            {
                await A.DisposeAsync();
            }

            if (B is not null)
            {
                await B.DisposeAsync();
            }

            await Cluster.DisposeAsync();
        }
    }
}

internal static class OrleansCacheBehaviour
{
    /// <summary>
    /// The grain expires an idle sliding entry one window after its last access; a new activation (after a
    /// deactivation or restart) does not know that access and keeps the entry until its stored TTL: window ×
    /// (1 + SlidingRenewalFraction), rounded up to whole seconds.
    /// </summary>
    public static TimeSpan SlidingTolerance(CacheClusterFixture fixture, TimeSpan window)
    {
        var fraction = fixture.Cluster.SiloServices.GetRequiredService<IOptions<NatsCacheGrainOptions>>().Value.SlidingRenewalFraction;
        return TimeSpan.FromSeconds(Math.Ceiling(window.TotalSeconds * (1 + fraction))) - window;
    }
}
