namespace CacheProvider.KvDoctor.Audit;

/// <summary>What <c>fix</c> may change.</summary>
/// <param name="MarkerTtl">Limit marker TTL to enable where markers are off.</param>
/// <param name="MaxAge">Max age to set, or null to leave max_age alone.</param>
/// <param name="TombstonesOlderThan">Tombstones older than this are purged entirely; newer ones are kept (just the tombstone).</param>
internal sealed record FixSettings(TimeSpan MarkerTtl, TimeSpan? MaxAge, TimeSpan TombstonesOlderThan);
