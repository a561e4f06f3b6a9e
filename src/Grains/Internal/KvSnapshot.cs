using CacheProvider.KeyValue;

namespace CacheProvider.Grains.Internal;

/// <summary>One current value delivered by a <see cref="KvSnapshot"/>.</summary>
/// <param name="Key">The KV key.</param>
/// <param name="Value">The value.</param>
/// <param name="Revision">Its revision.</param>
internal readonly record struct KvSnapshotEntry(string Key, ReadOnlyMemory<byte> Value, ulong Revision);

/// <summary>
/// Reads the current values of the keys matching several filters with one ordered consumer (deliver last per
/// subject, <see cref="KvBucket.SnapshotAsync"/>) and stops when caught up. Tombstones and expiry markers are skipped.
/// </summary>
internal static class KvSnapshot
{
    /// <summary>Appends the live values under <paramref name="keyFilters"/> to <paramref name="results"/>.</summary>
    /// <returns>How many messages the server delivered (rows touched, tombstones included).</returns>
    public static async Task<int> ReadAsync(KvBucket bucket, IReadOnlyList<string> keyFilters, List<KvSnapshotEntry> results, CancellationToken cancellationToken)
    {
        var touched = 0;
        await foreach (var entry in bucket.SnapshotAsync(keyFilters, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            touched++;
            if (entry.IsValue)
            {
                results.Add(new KvSnapshotEntry(entry.Key, entry.Value, entry.Revision));
            }
        }

        return touched;
    }
}
