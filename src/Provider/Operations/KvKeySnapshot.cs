namespace CacheProvider.Operations;

/// <summary>
/// Counts from a headers-only, last-revision-per-key scan of a bucket (what <see cref="KvKeyScanner"/> produces).
/// </summary>
/// <param name="Keys">Subjects that hold any message.</param>
/// <param name="Values">Keys whose last revision is a value.</param>
/// <param name="TtlValues">Values written with a per-key TTL.</param>
/// <param name="PermanentTombstones">Keys whose last revision is a client DEL/PURGE tombstone without a TTL.</param>
/// <param name="ExpiringTombstones">Client tombstones with a TTL (they remove themselves).</param>
/// <param name="Markers">Keys whose last revision is a server limit marker.</param>
public sealed record KvKeySnapshot(long Keys, long Values, long TtlValues, long PermanentTombstones, long ExpiringTombstones, long Markers)
{
    /// <summary>An empty bucket.</summary>
    public static KvKeySnapshot Empty { get; } = new(0, 0, 0, 0, 0, 0);
}
