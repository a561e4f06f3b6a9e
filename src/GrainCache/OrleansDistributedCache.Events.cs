using System.Runtime.CompilerServices;
using CacheProvider.Caching;
using CacheProvider.KeyValue;

namespace CacheProvider.Grains.Caching;

/// <summary>Key events from the cache grains' bucket.</summary>
public sealed partial class OrleansDistributedCache
{
    /// <summary>
    /// Keys of this cache that go away, as they happen, with the original cache key: expired (the server's expiry
    /// marker — the same moment the key's grain deactivates), removed (by any front end, or a KV delete/purge) or
    /// purged by the server. Watches the silos' cache grain storage bucket
    /// (<see cref="OrleansDistributedCacheOptions.Bucket"/>, keys under <see cref="OrleansDistributedCacheOptions.ServiceId"/>)
    /// on the app's NATS.Net connection. Each call opens its own watch; it is live before this method's first element
    /// is awaited and runs until cancelled; it throws when the watch fails (watch again: events in between may be
    /// missed). Keys too long to be stored reversibly (an encoded key over 512 characters is stored hashed) are
    /// reported with a null <see cref="CacheKeyEvent.Key"/>; unpaired surrogates come back as U+FFFD (Orleans keeps a
    /// string grain key as UTF-8).
    /// </summary>
    /// <exception cref="InvalidOperationException">The cache was made without a NATS connection, or without a service id.</exception>
    /// <exception cref="NatsCacheConfigurationException">The bucket does not exist.</exception>
    public async IAsyncEnumerable<CacheKeyEvent> WatchKeyEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var client = _bucket ?? throw new InvalidOperationException("Key events need a NATS connection: create the cache with one (AddOrleansNatsDistributedCache passes the app's).");
        var filter = client.Filter;
        var bucket = await client.GetBucketAsync(cancellationToken).ConfigureAwait(false);
        var watcher = await bucket.StartWatchAsync([filter], new KvWatchOptions { UpdatesOnly = true, HeadersOnly = true }, cancellationToken).ConfigureAwait(false);
        await using var _ = watcher.ConfigureAwait(false);
        await foreach (var entry in watcher.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (entry.IsValue)
            {
                continue;
            }

            yield return CacheKeyEvent.Ended(client.CacheKeyOf(entry.Key), entry);
        }
    }
}
