namespace CacheProvider.Operations;

/// <summary>The hygiene-relevant numbers of one KV bucket and what is wrong with it.</summary>
public sealed record KvBucketReport
{
    /// <summary>Bucket name (stream <c>KV_&lt;bucket&gt;</c>).</summary>
    public required string Bucket { get; init; }

    /// <summary>Revisions kept per key (max_msgs_per_subject).</summary>
    public long History { get; init; }

    /// <summary>Bucket max age; zero = none.</summary>
    public TimeSpan MaxAge { get; init; }

    /// <summary>Limit marker TTL (subject_delete_marker_ttl); zero = markers off.</summary>
    public TimeSpan MarkerTtl { get; init; }

    /// <summary>Whether per-message TTL is allowed.</summary>
    public bool AllowMsgTtl { get; init; }

    /// <summary>Messages stored.</summary>
    public ulong Messages { get; init; }

    /// <summary>Bytes stored.</summary>
    public ulong Bytes { get; init; }

    /// <summary>Interior deletes (the delete map).</summary>
    public long NumDeleted { get; init; }

    /// <summary><see cref="NumDeleted"/> / (<see cref="NumDeleted"/> + <see cref="Messages"/>); 0 when both are 0.</summary>
    public double DeletedRatio { get; init; }

    /// <summary>First sequence and its timestamp.</summary>
    public ulong FirstSeq { get; init; }

    /// <summary>Timestamp of the first message.</summary>
    public DateTimeOffset FirstTime { get; init; }

    /// <summary>True when an old message at the head keeps first_seq from advancing while interior deletes pile up.</summary>
    public bool FirstSeqPinned { get; init; }

    /// <summary>Estimated delete-map memory, low end (24 B per interior delete).</summary>
    public long DeleteMapBytesLow { get; init; }

    /// <summary>Estimated delete-map memory, high end (48 B per interior delete).</summary>
    public long DeleteMapBytesHigh { get; init; }

    /// <summary>Origin bucket (or stream) when this bucket is a mirror.</summary>
    public string? MirrorOrigin { get; init; }

    /// <summary>Mirror lag in messages, when a mirror.</summary>
    public ulong? MirrorLag { get; init; }

    /// <summary>Source buckets (or streams), when sourcing.</summary>
    public IReadOnlyList<string> Sources { get; init; } = [];

    /// <summary>Last-revision-per-key counts, when scanned.</summary>
    public KvKeySnapshot? Keys { get; init; }

    /// <summary>What is wrong, worst first.</summary>
    public IReadOnlyList<KvFinding> Findings { get; init; } = [];
}
