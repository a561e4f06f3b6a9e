namespace CacheProvider.Sessions;

/// <summary>What a <see cref="NatsSessionStore"/> has sent to the server since it started (each is one round trip).</summary>
/// <param name="Reads">Session loads.</param>
/// <param name="Writes">Commits that stored changed data.</param>
/// <param name="Renewals">Commits of unchanged sessions that rewrote them to extend the idle timeout.</param>
/// <param name="Removals">Sessions purged (cleared or removed).</param>
/// <param name="Conflicts">Commits that lost the revision race and re-applied their changes.</param>
/// <param name="LocalReads">Session loads served by this node's near cache (no round trip; not in <see cref="RoundTrips"/>).</param>
public sealed record NatsSessionStoreStatistics(long Reads, long Writes, long Renewals, long Removals, long Conflicts, long LocalReads = 0)
{
    /// <summary>All round trips to the server.</summary>
    public long RoundTrips => Reads + Writes + Renewals + Removals + Conflicts;
}
