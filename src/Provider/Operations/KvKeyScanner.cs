using CacheProvider.KeyValue;

namespace CacheProvider.Operations;

/// <summary>Scans the last revision of every key, headers only, and counts values, tombstones and markers.</summary>
public static class KvKeyScanner
{
    /// <summary>
    /// Reads the last revision per key (an ordered consumer, headers only) until caught up.
    /// <see cref="KvBucket.KeysAsync"/> cannot do this: it hides tombstones and markers.
    /// </summary>
    public static async Task<KvKeySnapshot> ScanAsync(KvBucket bucket, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bucket);
        if (bucket.Info.State.Messages == 0)
        {
            return KvKeySnapshot.Empty;
        }

        long keys = 0, values = 0, ttlValues = 0, permanent = 0, expiring = 0, markers = 0;
        var watcher = await bucket.StartWatchAsync([">"], new KvWatchOptions { HeadersOnly = true }, cancellationToken).ConfigureAwait(false);
        await using (watcher.ConfigureAwait(false))
        {
            if (watcher.InitialPending == 0)
            {
                return KvKeySnapshot.Empty;
            }

            await foreach (var e in watcher.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                keys++;
                if (e.MarkerReason != KvMarkerReason.None)
                {
                    markers++;
                }
                else if (e.Operation == KvOperation.Put)
                {
                    values++;
                    if (e.ExpiresAt is not null)
                    {
                        ttlValues++;
                    }
                }
                else if (e.ExpiresAt is not null)
                {
                    expiring++;
                }
                else
                {
                    permanent++;
                }

                if (e.Delta == 0)
                {
                    break;
                }
            }
        }

        return new KvKeySnapshot(keys, values, ttlValues, permanent, expiring, markers);
    }
}
