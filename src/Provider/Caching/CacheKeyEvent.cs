using CacheProvider.KeyValue;

namespace CacheProvider.Caching;

/// <summary>Why a cache key went away.</summary>
public enum CacheKeyEventReason
{
    /// <summary>Its TTL ran out: the server wrote an expiry marker.</summary>
    Expired,

    /// <summary>A client removed it (this cache's <c>Remove</c>, another node's, or a KV delete/purge).</summary>
    Removed,

    /// <summary>The server purged it (ADR-48 marker reason <c>Purge</c>).</summary>
    Purged,
}

/// <summary>A key of this cache that went away.</summary>
/// <param name="Key">The original cache key; null only for keys too long to encode reversibly whose marker carries no key.</param>
/// <param name="KvKey">The key as stored in the bucket.</param>
/// <param name="Reason">Expired, removed or purged.</param>
/// <param name="Revision">The KV revision of the event.</param>
/// <param name="Timestamp">When the server recorded it.</param>
public sealed record CacheKeyEvent(string? Key, string KvKey, CacheKeyEventReason Reason, ulong Revision, DateTimeOffset Timestamp)
{
    /// <summary>
    /// The event for a KV entry that ended a key (a tombstone or marker, as a bucket watch delivers it), with the
    /// original cache key as the caller decoded it.
    /// </summary>
    /// <param name="key">The original cache key, or null when it cannot be known.</param>
    /// <param name="entry">The tombstone or marker.</param>
    /// <returns>The event: a MaxAge marker is <see cref="CacheKeyEventReason.Expired"/>, a purge marker
    /// <see cref="CacheKeyEventReason.Purged"/>, anything else <see cref="CacheKeyEventReason.Removed"/>.</returns>
    public static CacheKeyEvent Ended(string? key, KvEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var reason = entry.MarkerReason switch
        {
            KvMarkerReason.Expired => CacheKeyEventReason.Expired,
            KvMarkerReason.Purged => CacheKeyEventReason.Purged,
            _ => CacheKeyEventReason.Removed,
        };
        return new CacheKeyEvent(key, entry.Key, reason, entry.Revision, entry.Created);
    }
}
