using CacheProvider.Caching;
using CacheProvider.Caching.Behaviour;
using Microsoft.Extensions.Caching.Distributed;

namespace CacheProvider.Tests.Caching;

/// <summary>The shared IDistributedCache behaviour suite on the direct cache, near cache off.</summary>
public sealed class NatsDistributedCacheBehaviourTests(NatsDistributedCacheBehaviourTests.Fixture fixture)
    : DistributedCacheBehaviourTests, IClassFixture<NatsDistributedCacheBehaviourTests.Fixture>
{
    protected override IBufferDistributedCache Cache => fixture.Cache;

    protected override IBufferDistributedCache OtherCache => fixture.Other;

    protected override int? MaxKeyUtf8Bytes => NatsDistributedCache.MaxKeyBytes;

    protected override TimeSpan SlidingExpiryTolerance(TimeSpan window) => NatsCacheBehaviourFixture.SlidingTolerance(window);

    public sealed class Fixture() : NatsCacheBehaviourFixture(nearCache: false);
}

/// <summary>
/// The shared IDistributedCache behaviour suite on the direct cache with its near cache on (and live), and a key
/// prefix (so every key is also checked in its prefixed encoding).
/// </summary>
public sealed class NearCachedNatsDistributedCacheBehaviourTests(NearCachedNatsDistributedCacheBehaviourTests.Fixture fixture)
    : DistributedCacheBehaviourTests, IClassFixture<NearCachedNatsDistributedCacheBehaviourTests.Fixture>
{
    protected override IBufferDistributedCache Cache => fixture.Cache;

    protected override IBufferDistributedCache OtherCache => fixture.Other;

    protected override int? MaxKeyUtf8Bytes => NatsDistributedCache.MaxKeyBytes;

    protected override TimeSpan SlidingExpiryTolerance(TimeSpan window) => NatsCacheBehaviourFixture.SlidingTolerance(window);

    public sealed class Fixture() : NatsCacheBehaviourFixture(nearCache: true, keyPrefix: "behaviour");
}

/// <summary>One nats-server and two caches on separate connections (the second is the suite's other instance).</summary>
public abstract class NatsCacheBehaviourFixture(bool nearCache, string? keyPrefix = null) : IAsyncLifetime
{
    private CacheHarness? _harness;

    public NatsDistributedCache Cache { get; private set; } = null!;

    public NatsDistributedCache Other { get; private set; } = null!;

    /// <summary>
    /// A sliding entry is stored for window × (1 + SlidingRenewalFraction), rounded up to whole seconds (NATS TTLs), and
    /// renewed only when less than a window is left: idle, it may be read until then.
    /// </summary>
    // The README's bound: an idle sliding entry lives at most window × (1 + SlidingRenewalFraction), whatever the
    // server's whole-second TTL.
    public static TimeSpan SlidingTolerance(TimeSpan window) =>
        window * new NatsDistributedCacheOptions().SlidingRenewalFraction;

    public async Task InitializeAsync()
    {
        _harness = await CacheHarness.StartAsync(null);
        Cache = await StartAsync(_harness.Cache(Configure));
        Other = await StartAsync(_harness.Cache(Configure));
    }

    public async Task DisposeAsync()
    {
        if (_harness is not null)
        {
            await _harness.DisposeAsync();
        }
    }

    private void Configure(NatsDistributedCacheOptions options)
    {
        options.NearCacheEnabled = nearCache;
        options.KeyPrefix = keyPrefix;
    }

    private async Task<NatsDistributedCache> StartAsync(NatsDistributedCache cache)
    {
        await cache.GetAsync("warm-up");
        if (nearCache)
        {
            // Only a live near cache serves reads: wait for its watch, or the suite would test the remote path only.
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (!cache.NearCacheActive)
            {
                Assert.True(DateTime.UtcNow < deadline, "the near cache's watch never went live");
                await Task.Delay(20);
            }
        }

        return cache;
    }
}
