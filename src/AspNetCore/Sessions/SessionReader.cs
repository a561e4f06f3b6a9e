using CacheProvider.KeyValue;

namespace CacheProvider.Sessions;

/// <summary>What a session read found: the stored payload when it is a live session, and the revision in any case.</summary>
/// <param name="Value">A copy of the payload; null for a missing, removed or expired session.</param>
/// <param name="Revision">The key's latest revision (0 when it has none), so a write after a tombstone can check it.</param>
/// <param name="ServerDeadlineMs">When the stored TTL runs out (Unix ms); 0 without one.</param>
internal readonly record struct SessionRead(byte[]? Value, ulong Revision, long ServerDeadlineMs);

/// <summary>Copies a live session out of the receive buffer; tombstones, markers and values past their TTL are misses.</summary>
internal readonly struct SessionReader(long nowMs) : IKvEntryReader<SessionRead>
{
    public SessionRead Read(in KvRawEntry entry) =>
        entry.IsValue && !entry.IsExpiredAt(nowMs)
            ? new SessionRead(entry.Value.IsEmpty ? [] : System.Buffers.BuffersExtensions.ToArray(entry.Value), entry.Revision, entry.ExpiresAtUnixMs)
            : new SessionRead(null, entry.Revision, 0);
}
