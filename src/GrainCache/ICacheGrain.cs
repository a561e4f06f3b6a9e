using Orleans;
using Orleans.Concurrency;

namespace CacheProvider.Grains.Caching;

/// <summary>When an entry expires: an absolute deadline and/or a sliding window (0 = none), fixed by the client at write time.</summary>
/// <param name="AbsoluteUnixMs">Absolute deadline, unix milliseconds; 0 = none.</param>
/// <param name="SlidingMs">Sliding window in milliseconds; 0 = none.</param>
[GenerateSerializer]
[Immutable]
[Alias("CacheProvider.Grains.Caching.CacheEntryExpiration")]
public readonly record struct CacheEntryExpiration([property: Id(0)] long AbsoluteUnixMs, [property: Id(1)] long SlidingMs);

/// <summary>What <see cref="ICacheGrain.GetOrLease"/> answered.</summary>
/// <remarks>Not [Immutable]: a co-hosted caller gets a copy of the value, never the grain's own array.</remarks>
[GenerateSerializer]
[Alias("CacheProvider.Grains.Caching.CacheLookup")]
public sealed record CacheLookup
{
    /// <summary>The value, when the entry exists.</summary>
    [Id(0)]
    public byte[]? Value { get; init; }

    /// <summary>Set when the entry is missing and the caller must create it (then <see cref="ICacheGrain.CompleteLease"/> or <see cref="ICacheGrain.AbandonLease"/>).</summary>
    [Id(1)]
    public Guid? Lease { get; init; }
}

/// <summary>What <see cref="ICacheGrain.GetForNearCache"/> answered: the value, and what a front-end copy of it needs.</summary>
/// <remarks>Not [Immutable]: a co-hosted caller must get its own copy of the value, never the grain's array.</remarks>
[GenerateSerializer]
[Alias("CacheProvider.Grains.Caching.CacheEntryRead")]
public sealed record CacheEntryRead
{
    /// <summary>The value, or null when the entry does not exist.</summary>
    [Id(0)]
    public byte[]? Value { get; init; }

    /// <summary>
    /// The KV revision <see cref="Value"/> is stored at; 0 when no copy may be kept (a write of the entry was in flight,
    /// or its deadline is too close). A copy is dropped by any later revision of the key.
    /// </summary>
    [Id(1)]
    public ulong Revision { get; init; }

    /// <summary>
    /// How long a copy may be served without calling the grain, counted from when the caller sent the call (so clocks
    /// never need to agree); null = no deadline (an entry without expiration). Only meaningful when
    /// <see cref="Revision"/> is not 0.
    /// </summary>
    [Id(2)]
    public TimeSpan? CopyValidFor { get; init; }
}

/// <summary>
/// One cache entry (grain key = cache key). Holds the value in memory, persists it in NATS KV with the entry's expiration
/// as the per-key TTL, and deactivates when the entry expires, is removed or is written elsewhere.
/// </summary>
[Alias("CacheProvider.Grains.Caching.ICacheGrain")]
public interface ICacheGrain : IGrainWithStringKey
{
    /// <summary>The value (renewing a sliding entry when due), or null.</summary>
    [Alias("Get")]
    Task<byte[]?> Get();

    /// <summary>
    /// Like <see cref="Get"/>, plus the value's revision and how long a front end may serve a copy from memory. Handing
    /// out a copy of a sliding entry counts as access until the copy's end: the entry then lives at least one window
    /// past any hit on the copy (see the near-cache rule in the README).
    /// </summary>
    [Alias("GetForNearCache")]
    Task<CacheEntryRead> GetForNearCache();

    /// <summary>Stores a value (replacing any). A co-hosted caller's array is copied (the caller may reuse it).</summary>
    [Alias("Set")]
    Task Set(byte[] value, CacheEntryExpiration expiration);

    /// <summary>Renews a sliding entry when due; no-op for missing or non-sliding entries.</summary>
    [Alias("Refresh")]
    Task Refresh();

    /// <summary>Removes the entry (and deactivates).</summary>
    [Alias("Remove")]
    Task Remove();

    /// <summary>
    /// The value, or, when missing, a lease to create it. One lease per key at a time: other callers wait (up to
    /// <paramref name="leaseWait"/> per round) until the holder completes or abandons it, then get the value (or the lease).
    /// </summary>
    [Alias("GetOrLease")]
    Task<CacheLookup> GetOrLease(TimeSpan leaseWait);

    /// <summary>Stores the value made under <paramref name="lease"/> and wakes the waiters.</summary>
    [Alias("CompleteLease")]
    Task CompleteLease(Guid lease, byte[] value, CacheEntryExpiration expiration);

    /// <summary>Gives the lease up (the factory failed): one waiter gets it next.</summary>
    [Alias("AbandonLease")]
    Task AbandonLease(Guid lease);
}
