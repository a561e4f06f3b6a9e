using CacheProvider.KeyValue;

namespace CacheProvider.Caching.Internal;

/// <summary>
/// The cache's fast read (<see cref="CacheReadParser"/>) for other stores that keep one value per KV key, e.g. the
/// ASP.NET Core session store: the reply is checked and copied while still in the receive buffer, with no headers or
/// <see cref="KvEntry"/> built. Always returns a copy of the value on a hit; expired entries, tombstones and markers
/// are not hits but carry their revision (for a revision-checked write after them).
/// </summary>
internal static class KvDirectReader
{
    /// <summary>Reads the latest revision of <paramref name="kvKey"/> as of <paramref name="nowMs"/> (Unix ms).</summary>
    public static ValueTask<CacheRead> ReadAsync(KvBucket bucket, string kvKey, long nowMs, KvReadMode mode, CancellationToken cancellationToken) =>
        bucket.ReadAsync<CacheReadParser, CacheRead>(kvKey, new CacheReadParser(null, nowMs, null, wantCopy: true), mode, cancellationToken);
}
