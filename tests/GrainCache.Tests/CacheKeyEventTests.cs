using CacheProvider.Caching;
using Microsoft.Extensions.Caching.Distributed;
using Orleans;

namespace CacheProvider.Grains.Caching.Tests;

/// <summary>Key events of the Orleans cache, watched by a front end on its own NATS connection.</summary>
[Collection(CacheClusterCollection.Name)]
public sealed class CacheKeyEventTests(CacheClusterFixture fixture)
{
    private CacheCluster Cluster => fixture.Cluster;

    private static string NewKey(string prefix = "ev-") => prefix + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Expiry_and_removal_are_reported_with_the_original_key_and_reason()
    {
        await using var front = await FrontEnd.StartAsync(Cluster, fixture.Server.Url);
        var cache = front.Cache;
        await using var events = new Collected<CacheKeyEvent>(ct => cache.WatchKeyEventsAsync(ct));
        var probe = NewKey("probe-");
        await events.ProbeUntilLiveAsync(async () => { await cache.SetAsync(probe, [1], new DistributedCacheEntryOptions()); await cache.RemoveAsync(probe); }, e => e.Key == probe);

        // Characters the KV scheme encodes (dots, colons, non-ASCII) come back as they were.
        var expiring = NewKey("user:ä.") + ".*>";
        var removed = NewKey("cart:") + " x";
        await cache.SetAsync(expiring, [1], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(1) });
        await cache.SetAsync(removed, [2], new DistributedCacheEntryOptions());
        await cache.RemoveAsync(removed);

        var removal = await events.FirstAsync(e => e.Key == removed, Eventually.Patience);
        Assert.NotNull(removal);
        Assert.Equal(CacheKeyEventReason.Removed, removal.Reason);
        Assert.Equal(Cluster.KvKeyOf(removed), removal.KvKey);

        var expiry = await events.FirstAsync(e => e.Key == expiring, Eventually.Patience);
        Assert.NotNull(expiry);
        Assert.Equal(CacheKeyEventReason.Expired, expiry.Reason);
        Assert.Equal(Cluster.KvKeyOf(expiring), expiry.KvKey);
        Assert.True(expiry.Revision > removal.Revision);

        // Writes are not events, and each key went away once.
        Assert.Single(events.All, e => e.Key == expiring);
        Assert.Single(events.All, e => e.Key == removed);
    }

    [Fact]
    public async Task A_key_too_long_to_store_reversibly_is_reported_by_its_KV_key()
    {
        await using var front = await FrontEnd.StartAsync(Cluster, fixture.Server.Url);
        var cache = front.Cache;
        await using var events = new Collected<CacheKeyEvent>(ct => cache.WatchKeyEventsAsync(ct));
        var probe = NewKey("probe-");
        await events.ProbeUntilLiveAsync(async () => { await cache.SetAsync(probe, [1], new DistributedCacheEntryOptions()); await cache.RemoveAsync(probe); }, e => e.Key == probe);

        var longKey = NewKey() + new string('ö', NatsGrainStateKeys.MaxTokenLength);
        await cache.SetAsync(longKey, [1], new DistributedCacheEntryOptions());
        await cache.RemoveAsync(longKey);

        var kvKey = Cluster.KvKeyOf(longKey);
        var removal = await events.FirstAsync(e => e.KvKey == kvKey, Eventually.Patience);
        Assert.NotNull(removal);
        Assert.Null(removal.Key);
        Assert.Equal(CacheKeyEventReason.Removed, removal.Reason);
    }

    [Fact]
    public async Task Key_events_need_a_connection_and_an_existing_bucket()
    {
        var withoutConnection = new OrleansDistributedCache(Cluster.Client);
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (var _ in withoutConnection.WatchKeyEventsAsync())
            {
            }
        });

        await using var front = await FrontEnd.StartAsync(Cluster, fixture.Server.Url, o => o.Bucket = "no-such-bucket");
        var error = await Assert.ThrowsAsync<NatsCacheConfigurationException>(async () =>
        {
            await foreach (var _ in front.Cache.WatchKeyEventsAsync())
            {
            }
        });
        Assert.Contains("no-such-bucket", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_cache_is_a_key_event_source_that_session_events_can_use()
    {
        await using var front = await FrontEnd.StartAsync(Cluster, fixture.Server.Url);
        ICacheKeyEventSource source = front.Cache;
        await using var ended = new Collected<Sessions.SessionEnded>(ct => Sessions.DistributedSessionEvents.WatchEndedSessionsAsync(source, ct));
        var probe = Guid.NewGuid().ToString();
        await ended.ProbeUntilLiveAsync(async () => { await front.Cache.SetAsync(probe, [1], new DistributedCacheEntryOptions()); await front.Cache.RemoveAsync(probe); }, e => e.SessionKey == probe);

        // A session-shaped key is a session; another key of the same cache is not.
        var session = Guid.NewGuid().ToString();
        var other = NewKey();
        await front.Cache.SetAsync(other, [1], new DistributedCacheEntryOptions());
        await front.Cache.RemoveAsync(other);
        await front.Cache.SetAsync(session, [1], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromSeconds(1) });

        var end = await ended.FirstAsync(e => e.SessionKey == session, Eventually.Patience);
        Assert.NotNull(end);
        Assert.Equal(Sessions.SessionEndReason.IdleTimeout, end.Reason);
        Assert.DoesNotContain(ended.All, e => e.SessionKey == other);
    }
}
