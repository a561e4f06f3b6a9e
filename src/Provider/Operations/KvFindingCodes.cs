namespace CacheProvider.Operations;

/// <summary>Identifiers of the findings <see cref="KvAudit"/> reports.</summary>
public static class KvFindingCodes
{
    /// <summary>The server is older than <c>KvContext.MinimumServerVersion</c> (TTL expiry unreliable).</summary>
    public const string ServerTooOld = "server-too-old";

    /// <summary>No max age, markers off, and many interior deletes: the delete map only grows.</summary>
    public const string UnboundedDeleteMap = "unbounded-delete-map";

    /// <summary>
    /// Limit markers off (no <c>subject_delete_marker_ttl</c>): keys that expire vanish without a marker, so watchers
    /// never learn of it. A warning when keys here do expire (max age, values with a TTL), else informational.
    /// </summary>
    public const string MarkersOff = "markers-off";

    /// <summary>Keys whose last revision is a DEL/PURGE tombstone without a TTL: kept forever.</summary>
    public const string PermanentTombstones = "permanent-tombstones";

    /// <summary>A mirror without <c>allow_msg_ttl</c>: keeps expired values, markers and tombstones forever.</summary>
    public const string MirrorWithoutTtl = "mirror-without-ttl";

    /// <summary>History above 1 with TTL'd writes: an expiring revision brings the older one back.</summary>
    public const string HistoryWithTtl = "history-with-ttl";

    /// <summary>An old message holds first_seq, so every later removal stays in the delete map.</summary>
    public const string FirstSeqPinned = "first-seq-pinned";
}
