using NATS.Client.Core;

namespace CacheProvider.KeyValue;

/// <summary>What a KV revision is.</summary>
public enum KvOperation
{
    /// <summary>A value.</summary>
    Put,

    /// <summary>A delete tombstone, or a limit marker with reason <c>Remove</c>.</summary>
    Delete,

    /// <summary>A purge tombstone, or a limit marker with reason <c>MaxAge</c>/<c>Purge</c>.</summary>
    Purge,
}

/// <summary>Why the server wrote a limit marker (ADR-48 <c>Nats-Marker-Reason</c>).</summary>
public enum KvMarkerReason
{
    /// <summary>Not a marker: written by a client.</summary>
    None,

    /// <summary>The key's TTL (or the bucket's max age) ran out: <c>MaxAge</c>.</summary>
    Expired,

    /// <summary>Removed by the server: <c>Remove</c>.</summary>
    Removed,

    /// <summary>Purged by the server: <c>Purge</c>.</summary>
    Purged,
}

/// <summary>One revision of a key.</summary>
public sealed class KvEntry
{
    /// <summary>Bucket.</summary>
    public required string Bucket { get; init; }

    /// <summary>Key.</summary>
    public required string Key { get; init; }

    /// <summary>Value; empty for tombstones and markers (and for reads that wrote the value to a caller's buffer).</summary>
    public ReadOnlyMemory<byte> Value { get; init; }

    /// <summary>Length of the value in bytes.</summary>
    public int ValueLength { get; init; }

    /// <summary>Revision (stream sequence).</summary>
    public ulong Revision { get; init; }

    /// <summary>When the server stored this revision.</summary>
    public DateTimeOffset Created { get; init; }

    /// <summary>For watches: revisions still to come before the watcher is caught up.</summary>
    public ulong Delta { get; init; }

    /// <summary>Put, delete or purge.</summary>
    public KvOperation Operation { get; init; }

    /// <summary>Set when the server wrote this revision as a limit marker (the key expired).</summary>
    public KvMarkerReason MarkerReason { get; init; }

    /// <summary>The per-key TTL this revision was written with, if any (<see cref="Timeout.InfiniteTimeSpan"/> = never).</summary>
    public TimeSpan? Ttl { get; init; }

    /// <summary><see cref="Created"/> + <see cref="Ttl"/>, when a finite TTL is set.</summary>
    public DateTimeOffset? ExpiresAt => Ttl is { } ttl && ttl != Timeout.InfiniteTimeSpan ? Created + ttl : null;

    /// <summary>Whether this revision is a value (not a tombstone or marker).</summary>
    public bool IsValue => Operation == KvOperation.Put && MarkerReason == KvMarkerReason.None;

    /// <summary>Whether the value is past its TTL at <paramref name="now"/> (the server may still serve it ≈ 250 ms).</summary>
    public bool IsExpiredAt(DateTimeOffset now) => ExpiresAt is { } at && at <= now;

    private NatsHeaders? _headers;

    /// <summary>All headers: the stored ones, then those the server adds to a read (<c>Nats-Stream</c>, <c>Nats-Sequence</c>…).</summary>
    /// <remarks>Built on first access from the raw header block: most reads never look at them.</remarks>
    public NatsHeaders? Headers
    {
        get
        {
            if (_headers is null && HeaderBlock is { } block)
            {
                Interlocked.CompareExchange(ref _headers, Internal.EntryParser.ToHeaders(block), null);
            }

            return _headers;
        }

        init => _headers = value;
    }

    /// <summary>The header block as received (<c>NATS/1.0…</c>), or null.</summary>
    internal byte[]? HeaderBlock { get; init; }

    /// <inheritdoc />
    public override string ToString() =>
        $"{Bucket}/{Key}@{Revision} {Operation}{(MarkerReason == KvMarkerReason.None ? "" : " marker:" + MarkerReason)} ({ValueLength} B)";
}
