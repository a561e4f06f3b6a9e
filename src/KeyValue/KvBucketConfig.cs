using NATS.Client.JetStream.Models;

namespace CacheProvider.KeyValue;

/// <summary>Where a bucket keeps its data.</summary>
public enum KvStorage
{
    /// <summary>On disk (survives restarts).</summary>
    File,

    /// <summary>In memory.</summary>
    Memory,
}

/// <summary>Settings of a KV bucket.</summary>
public sealed record KvBucketConfig
{
    /// <summary>Bucket name: letters, digits, <c>_</c> and <c>-</c>.</summary>
    public required string Bucket { get; init; }

    /// <summary>Description.</summary>
    public string? Description { get; init; }

    /// <summary>Revisions kept per key (1–64). Per-key TTLs need 1: with more, an expired revision uncovers the older one.</summary>
    public int History { get; init; } = 1;

    /// <summary>Maximum age of any value; zero = none. Also expires values whose own TTL is longer.</summary>
    public TimeSpan MaxAge { get; init; }

    /// <summary>Maximum bucket size in bytes; -1 unlimited.</summary>
    public long MaxBytes { get; init; } = -1;

    /// <summary>Largest value (the server counts headers too); -1 unlimited.</summary>
    public int MaxValueSize { get; init; } = -1;

    /// <summary>Storage.</summary>
    public KvStorage Storage { get; init; } = KvStorage.File;

    /// <summary>Replicas (1, 3 or 5 in a cluster).</summary>
    public int Replicas { get; init; } = 1;

    /// <summary>S2 compression.</summary>
    public bool Compression { get; init; }

    /// <summary>Free-form metadata.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>
    /// How long the limit marker the server writes when a key expires stays visible (ADR-48); zero = no markers.
    /// At least 1 s. Enables per-key TTL. Forbidden on mirrors.
    /// </summary>
    public TimeSpan LimitMarkerTtl { get; init; }

    /// <summary>
    /// Allow per-key TTL without markers. Implied by <see cref="LimitMarkerTtl"/>; on by default for mirrors, which
    /// must honour the origin's TTLs themselves or they keep expired values and markers forever.
    /// </summary>
    public bool? AllowMsgTtl { get; init; }

    /// <summary>
    /// Allow atomic multi-key batches (<c>allow_atomic</c>, nats-server 2.12+), which <see cref="KvBucket.CommitAsync"/>
    /// needs. Can be switched on for an existing bucket with <see cref="KvContext.UpdateBucketAsync"/>. Not on mirrors.
    /// </summary>
    public bool AllowAtomicPublish { get; init; }

    /// <summary>Make this bucket a read-only mirror of another bucket.</summary>
    public KvMirror? Mirror { get; init; }

    /// <summary>Buckets this one sources from.</summary>
    public IReadOnlyList<KvMirror>? Sources { get; init; }
}

/// <summary>The origin of a mirror or source bucket.</summary>
public sealed record KvMirror
{
    /// <summary>Origin bucket name.</summary>
    public required string Bucket { get; init; }

    /// <summary>The origin's JetStream domain, when it lives elsewhere (leaf node, other cluster).</summary>
    public string? Domain { get; init; }
}

/// <summary>A bucket's configuration and counters.</summary>
public sealed record KvBucketStatus
{
    /// <summary>Bucket.</summary>
    public required string Bucket { get; init; }

    /// <summary>
    /// Stored messages: every kept revision of every key, tombstones and expiry markers included (the stream's
    /// message count). Not the number of live values: see <see cref="KvBucket.CountValuesAsync"/>.
    /// </summary>
    public ulong Messages { get; init; }

    /// <summary>
    /// Same as <see cref="Messages"/>: stored messages, tombstones and markers included, despite the name. Kept so
    /// existing callers compile and keep their meaning; the exact number of live values is
    /// <see cref="KvBucket.CountValuesAsync"/>.
    /// </summary>
    public ulong Values
    {
        get => Messages;
        init => Messages = value;
    }

    /// <summary>
    /// Keys with at least one stored message (the stream's subject count): keys holding only a tombstone or an
    /// expiry marker count too. With history 1 it equals <see cref="Messages"/>.
    /// </summary>
    public long Keys { get; init; }

    /// <summary>Bytes stored.</summary>
    public ulong Bytes { get; init; }

    /// <summary>History per key.</summary>
    public long History { get; init; }

    /// <summary>Maximum age; zero = none.</summary>
    public TimeSpan MaxAge { get; init; }

    /// <summary>Limit marker TTL; zero = markers off.</summary>
    public TimeSpan LimitMarkerTtl { get; init; }

    /// <summary>Whether per-key TTL is allowed.</summary>
    public bool AllowMsgTtl { get; init; }

    /// <summary>Interior deletes the server tracks (the delete map).</summary>
    public long NumDeleted { get; init; }

    /// <summary>Whether atomic multi-key batches are allowed (<c>allow_atomic</c>).</summary>
    public bool AllowAtomicPublish { get; init; }

    /// <summary>Whether the bucket is a mirror.</summary>
    public bool IsMirror { get; init; }

    /// <summary>The mirrored bucket, for mirrors.</summary>
    public string? MirrorOrigin { get; init; }

    /// <summary>Storage.</summary>
    public KvStorage Storage { get; init; }

    /// <summary>Replicas.</summary>
    public int Replicas { get; init; }

    /// <summary>The underlying stream.</summary>
    public required StreamInfo StreamInfo { get; init; }
}
