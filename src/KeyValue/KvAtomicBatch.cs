using System.Buffers;

namespace CacheProvider.KeyValue;

/// <summary>What one message of a <see cref="KvAtomicBatch"/> does to its key.</summary>
public enum KvAtomicOperationKind
{
    /// <summary>Writes a value.</summary>
    Put,

    /// <summary>Writes a delete tombstone (earlier revisions stay, as with <see cref="KvBucket.DeleteAsync"/>).</summary>
    Delete,

    /// <summary>Removes every revision and leaves one purge tombstone (<c>Nats-Rollup: sub</c>), optionally self-expiring.</summary>
    Purge,
}

/// <summary>One message of a <see cref="KvAtomicBatch"/>.</summary>
/// <param name="Kind">What it does.</param>
/// <param name="Key">The key.</param>
/// <param name="Value">The value (empty for tombstones).</param>
/// <param name="ExpectedRevision">
/// Compare-and-set: the key's last revision (tombstones and markers included) must be this one when the batch commits;
/// 0 = the key must have no message at all; null = no check.
/// </param>
/// <param name="Ttl">Per-message TTL (a purge tombstone's TTL removes it again).</param>
public readonly record struct KvAtomicOperation(KvAtomicOperationKind Kind, string Key, ReadOnlyMemory<byte> Value, ulong? ExpectedRevision, TimeSpan? Ttl);

/// <summary>
/// Writes to several keys of one bucket that the server applies all together or not at all (atomic batch publish,
/// ADR-50, nats-server 2.12+ on a bucket with <see cref="KvBucketConfig.AllowAtomicPublish"/>). Each message may carry
/// its own compare-and-set and TTL; every check runs when the batch commits. Build it, then pass it to
/// <see cref="KvBucket.CommitAsync"/>.
/// </summary>
public sealed class KvAtomicBatch
{
    /// <summary>Most messages one batch may hold (the server's default <c>max_batch_size</c>).</summary>
    public const int MaxOperations = 1000;

    private readonly List<KvAtomicOperation> _operations = [];

    /// <summary>The messages, in commit order.</summary>
    public IReadOnlyList<KvAtomicOperation> Operations => _operations;

    /// <summary>Number of messages.</summary>
    public int Count => _operations.Count;

    /// <summary>Adds a value write.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="expectedRevision">Compare-and-set (0 = the key must have no message); null = none.</param>
    /// <param name="ttl">Per-key TTL; null = none.</param>
    public KvAtomicBatch Put(string key, ReadOnlyMemory<byte> value, ulong? expectedRevision = null, TimeSpan? ttl = null) =>
        Add(new KvAtomicOperation(KvAtomicOperationKind.Put, key, value, expectedRevision, ttl));

    /// <summary>Adds a delete tombstone.</summary>
    public KvAtomicBatch Delete(string key, ulong? expectedRevision = null) =>
        Add(new KvAtomicOperation(KvAtomicOperationKind.Delete, key, ReadOnlyMemory<byte>.Empty, expectedRevision, null));

    /// <summary>Adds a purge; with <paramref name="tombstoneTtl"/> its tombstone removes itself.</summary>
    public KvAtomicBatch Purge(string key, ulong? expectedRevision = null, TimeSpan? tombstoneTtl = null) =>
        Add(new KvAtomicOperation(KvAtomicOperationKind.Purge, key, ReadOnlyMemory<byte>.Empty, expectedRevision, tombstoneTtl));

    private KvAtomicBatch Add(KvAtomicOperation operation)
    {
        Internal.KvNames.ValidateKey(operation.Key);
        if (operation.Ttl is { } ttl)
        {
            Internal.TtlFormat.Validate(ttl, nameof(operation.Ttl));
        }

        if (_operations.Count == MaxOperations)
        {
            throw new InvalidOperationException($"An atomic batch holds at most {MaxOperations} messages (the server's max_batch_size)");
        }

        // The server refuses a second compare-and-set (or a rollup after a write) on one subject within a batch (10164,
        // 10111): say so here, where the caller can still see which key it was.
        foreach (var existing in _operations)
        {
            if (string.Equals(existing.Key, operation.Key, StringComparison.Ordinal))
            {
                throw new ArgumentException($"Key '{operation.Key}' is already written by this batch; one message per key", nameof(operation));
            }
        }

        _operations.Add(operation);
        return this;
    }
}

/// <summary>How a <see cref="KvBucket.CommitAsync"/> ended when it got an answer.</summary>
/// <param name="Committed">True: every message is stored. False: a compare-and-set failed and nothing is stored.</param>
/// <param name="Sequence">The stream sequence of the last message (committed only).</param>
/// <param name="Count">Messages in the batch.</param>
/// <param name="ErrorCode">
/// Why it was not committed: <see cref="JetStreamErrorCodes.WrongLastSequence"/>,
/// <see cref="JetStreamErrorCodes.WrongLastSubjectSequence"/> or <see cref="JetStreamErrorCodes.BatchIncomplete"/>; 0 when committed.
/// </param>
public readonly record struct KvAtomicResult(bool Committed, ulong Sequence, int Count, int ErrorCode)
{
    /// <summary>
    /// The revision the message at <paramref name="index"/> was stored at: a batch is stored as one run of consecutive
    /// sequences ending at <see cref="Sequence"/>.
    /// </summary>
    public ulong RevisionOf(int index)
    {
        if (!Committed)
        {
            throw new InvalidOperationException("The batch was not committed");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Sequence - (ulong)(Count - 1 - index);
    }
}
