namespace CacheProvider.Operations;

/// <summary>Limits above which <see cref="KvAudit"/> reports a finding.</summary>
public sealed record KvAuditThresholds
{
    /// <summary>Interior deletes (<c>num_deleted</c>) that count as "many" for a bucket with no max age and no markers.</summary>
    public long ManyDeletes { get; init; } = 10_000;

    /// <summary>Interior deletes from which <see cref="KvFindingCodes.UnboundedDeleteMap"/> becomes an error (≈ 24–48 MB of delete map).</summary>
    public long DeletesError { get; init; } = 1_000_000;

    /// <summary>Permanent tombstones from which <see cref="KvFindingCodes.PermanentTombstones"/> is reported.</summary>
    public long PermanentTombstones { get; init; } = 1_000;

    /// <summary>
    /// Age of the first message beyond which first_seq counts as pinned when the bucket has no max age
    /// (with a max age: twice the max age).
    /// </summary>
    public TimeSpan PinnedAge { get; init; } = TimeSpan.FromDays(1);

    /// <summary>Defaults.</summary>
    public static KvAuditThresholds Default { get; } = new();
}
