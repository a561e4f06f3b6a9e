using System.Buffers;
using System.Globalization;
using CacheProvider.KeyValue.Internal;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace CacheProvider.KeyValue;

/// <summary>Writes: put with per-key TTL, create, compare-and-set, delete and purge.</summary>
public sealed partial class KvBucket
{
    /// <summary>Writes a value. With <paramref name="ttl"/> the key expires on its own (and watchers see an expiry marker).</summary>
    /// <returns>The new revision.</returns>
    /// <exception cref="ArgumentOutOfRangeException">TTL below 1 s.</exception>
    /// <exception cref="InvalidOperationException">TTL on a bucket with history &gt; 1 (an older revision would come back on expiry).</exception>
    public ValueTask<ulong> PutAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? ttl = null, CancellationToken cancellationToken = default) =>
        WriteAsync(key, new ReadOnlySequence<byte>(value), BuildHeaders(ttl, expectedRevision: null), cancellationToken);

    /// <summary>Writes a value only if the key has none (never written, deleted, purged or expired).</summary>
    /// <exception cref="KvKeyExistsException">The key holds a value.</exception>
    public async ValueTask<ulong> CreateAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? ttl = null, CancellationToken cancellationToken = default)
    {
        KvNames.ValidateKey(key);
        try
        {
            return await WriteAsync(key, new ReadOnlySequence<byte>(value), BuildHeaders(ttl, expectedRevision: 0), cancellationToken, expectedRevision: 0).ConfigureAwait(false);
        }
        catch (NatsJSApiException ex) when (ex.IsWrongLastSequence())
        {
        }

        // Occupied: by a value, or by a tombstone/marker (or a value past its deadline) that create may replace.
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var last = await GetLastAsync(key, KvReadMode.Leader, cancellationToken).ConfigureAwait(false);
            var expected = last?.Revision ?? 0;
            if (last is { IsValue: true } && !last.IsExpiredAt(TimeProvider.GetUtcNow()))
            {
                throw new KvKeyExistsException(Bucket, key, last.Revision);
            }

            try
            {
                return await WriteAsync(key, new ReadOnlySequence<byte>(value), BuildHeaders(ttl, expected), cancellationToken, expected).ConfigureAwait(false);
            }
            catch (NatsJSApiException ex) when (ex.IsWrongLastSequence())
            {
                // Someone wrote in between: look again.
            }
        }

        var current = await GetLastAsync(key, KvReadMode.Leader, cancellationToken).ConfigureAwait(false);
        throw new KvKeyExistsException(Bucket, key, current?.Revision ?? 0);
    }

    /// <summary>Writes a value only if the key is still at <paramref name="expectedRevision"/>.</summary>
    /// <exception cref="KvWrongRevisionException">The key changed meanwhile.</exception>
    public async ValueTask<ulong> UpdateAsync(string key, ReadOnlyMemory<byte> value, ulong expectedRevision, TimeSpan? ttl = null, CancellationToken cancellationToken = default)
    {
        try
        {
            return await WriteAsync(key, new ReadOnlySequence<byte>(value), BuildHeaders(ttl, expectedRevision), cancellationToken, expectedRevision).ConfigureAwait(false);
        }
        catch (NatsJSApiException ex) when (ex.IsWrongLastSequence())
        {
            throw new KvWrongRevisionException(Bucket, key, expectedRevision, ex);
        }
    }

    /// <summary>
    /// Deletes the key by writing a tombstone. A plain delete tombstone stays forever (it feeds the server's
    /// delete map); prefer <see cref="PurgeAsync"/> with a TTL for churny keys.
    /// </summary>
    public async ValueTask<ulong> DeleteAsync(string key, ulong? expectedRevision = null, CancellationToken cancellationToken = default)
    {
        var headers = BuildHeaders(null, expectedRevision) ?? new NatsHeaders();
        headers.Add("KV-Operation", "DEL");
        try
        {
            return await WriteAsync(key, ReadOnlySequence<byte>.Empty, headers, cancellationToken, expectedRevision, KvOperation.Delete).ConfigureAwait(false);
        }
        catch (NatsJSApiException ex) when (ex.IsWrongLastSequence() && expectedRevision is { } rev)
        {
            throw new KvWrongRevisionException(Bucket, key, rev, ex);
        }
    }

    /// <summary>
    /// Purges the key: removes all its revisions and leaves one purge tombstone. With <paramref name="tombstoneTtl"/>
    /// the tombstone removes itself (ADR-48) and writes no marker, so heavy churn leaves nothing behind.
    /// </summary>
    public async ValueTask<ulong> PurgeAsync(string key, TimeSpan? tombstoneTtl = null, ulong? expectedRevision = null, CancellationToken cancellationToken = default)
    {
        var headers = BuildHeaders(tombstoneTtl, expectedRevision, allowWithHistory: true) ?? new NatsHeaders();
        headers.Add("KV-Operation", "PURGE");
        headers.Add("Nats-Rollup", "sub");
        try
        {
            return await WriteAsync(key, ReadOnlySequence<byte>.Empty, headers, cancellationToken, expectedRevision, KvOperation.Purge).ConfigureAwait(false);
        }
        catch (NatsJSApiException ex) when (ex.IsWrongLastSequence() && expectedRevision is { } rev)
        {
            throw new KvWrongRevisionException(Bucket, key, rev, ex);
        }
    }

    /// <summary>
    /// Writes a value whose payload may be a sequence of segments (not flattened), with caller headers, an optional
    /// per-key TTL and an optional expected revision.
    /// </summary>
    /// <returns>The new revision.</returns>
    /// <exception cref="KvWrongRevisionException">The key is not at <see cref="KvPutOptions.ExpectedRevision"/>.</exception>
    /// <exception cref="KvValueTooLargeException">Headers and value exceed the bucket's max value size.</exception>
    /// <exception cref="KvWriteOutcomeUnknownException">No acknowledgement within the retry budget: the write may or may not be stored.</exception>
    public async ValueTask<ulong> PutAsync(string key, ReadOnlySequence<byte> value, KvPutOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        KvNames.ValidateKey(key);
        var headers = BuildHeaders(options.Ttl, options.ExpectedRevision);
        if (options.Headers is { Count: > 0 } extra)
        {
            headers ??= new NatsHeaders();
            foreach (var (name, v) in extra)
            {
                if (name.StartsWith("Nats-", StringComparison.OrdinalIgnoreCase) || name.StartsWith("KV-", StringComparison.OrdinalIgnoreCase))
                {
                    throw new ArgumentException($"Header '{name}' is reserved for the server and KV", nameof(options));
                }

                headers[name] = v;
            }
        }

        CheckSize(headers, value.Length);
        if (options.MsgId is { } msgId)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(msgId, nameof(options));
            headers ??= new NatsHeaders();
            headers["Nats-Msg-Id"] = msgId;
        }

        var retry = new WriteRetry(
            options.RetryBudget,
            Repeatable: options.MsgId is not null || options.ExpectedRevision is not null,
            Idempotent: options.MsgId is not null,
            ReportUnknown: true);
        try
        {
            var ack = await _js.PublishAsync(_writePrefix + key, value, headers, retry, TimeProvider, cancellationToken).ConfigureAwait(false);
            return ack.Seq;
        }
        catch (NatsJSApiException ex) when (ex.IsWrongLastSequence() && options.ExpectedRevision is { } rev)
        {
            throw new KvWrongRevisionException(Bucket, key, rev, ex);
        }
        catch (KvWriteOutcomeUnknownException unknown) when (unknown.InnerException is NatsJSApiException api && api.IsWrongLastSequence() && options.ExpectedRevision is { } rev)
        {
            // A resend after a lost acknowledgement found the key moved on: by our own first attempt, if it holds this value.
            if (await FindOwnWriteAsync(key, value, rev, KvOperation.Put, cancellationToken).ConfigureAwait(false) is { } revision)
            {
                return revision;
            }

            throw;
        }
    }

    private NatsHeaders? BuildHeaders(TimeSpan? ttl, ulong? expectedRevision, bool allowWithHistory = false)
    {
        if (ttl is null && expectedRevision is null)
        {
            return null;
        }

        var headers = new NatsHeaders();
        if (ttl is { } t)
        {
            TtlFormat.Validate(t, nameof(ttl));
            if (!allowWithHistory && History > 1)
            {
                throw new InvalidOperationException(
                    $"Bucket '{Bucket}' keeps {History} revisions per key: a per-key TTL would bring the previous revision back when it expires. Use a bucket with History = 1 for TTL'd keys.");
            }

            // Exactly "Nats-TTL": the server ignores the header in any other case.
            headers.Add(TtlFormat.HeaderName, TtlFormat.Format(t));
        }

        if (expectedRevision is { } rev)
        {
            headers.Add("Nats-Expected-Last-Subject-Sequence", rev.ToString(CultureInfo.InvariantCulture));
        }

        return headers;
    }

    /// <summary>
    /// A write through the context's budget. Without an expected revision it is repeated only when it certainly was not
    /// stored. With one it is also resent after an unknown outcome (a lost connection, a timeout): a resend of a write
    /// that did land fails harmlessly with "wrong last sequence", and the key is then read from the leader — if it holds
    /// exactly this write at a later revision, that revision is the answer.
    /// </summary>
    private async ValueTask<ulong> WriteAsync(string key, ReadOnlySequence<byte> value, NatsHeaders? headers, CancellationToken cancellationToken, ulong? expectedRevision = null, KvOperation operation = KvOperation.Put)
    {
        KvNames.ValidateKey(key);
        CheckSize(headers, value.Length);
        if (expectedRevision is not { } expected)
        {
            var plain = new WriteRetry(_js.Options.WriteRetryBudget, Repeatable: false, Idempotent: false, ReportUnknown: false);
            return (await _js.PublishAsync(_writePrefix + key, value, headers, plain, TimeProvider, cancellationToken).ConfigureAwait(false)).Seq;
        }

        // Resends must outlast a reconnect or a leader election (≈ 4–5 s on a loaded 3-node cluster): two request timeouts.
        var budget = _js.Options.WriteRetryBudget > 2 * _js.RequestTimeout ? _js.Options.WriteRetryBudget : 2 * _js.RequestTimeout;
        var retry = new WriteRetry(budget, Repeatable: true, Idempotent: false, ReportUnknown: true);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return (await _js.PublishAsync(_writePrefix + key, value, headers, retry, TimeProvider, cancellationToken).ConfigureAwait(false)).Seq;
            }
            catch (KvWriteOutcomeUnknownException unknown) when (unknown.InnerException is NatsJSApiException api && api.IsWrongLastSequence())
            {
                if (await FindOwnWriteAsync(key, value, expected, operation, cancellationToken).ConfigureAwait(false) is { } revision)
                {
                    return revision;
                }

                throw;
            }
            catch (NatsJSApiException ex) when (ex.IsWrongLastSequence() && attempt < SpuriousConflictAttempts && Info.Config.NumReplicas > 1)
            {
                // A leader just elected can refuse a compare-and-set before it has applied all it committed (seen on R3
                // after a leader kill): when the key, read from the leader, is not past the expected revision, nobody
                // else wrote it. Send again, a little later; the expected revision still guards the write. A single
                // replica has no elections, so its conflicts are real and cost no extra read.
                if (await HasMovedPastAsync(key, expected, cancellationToken).ConfigureAwait(false))
                {
                    throw;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(50 * attempt), TimeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    // How often a compare-and-set refused by a leader that had not caught up is sent again (see WriteAsync).
    private const int SpuriousConflictAttempts = 4;

    /// <summary>Whether the leader holds <paramref name="key"/> at a revision after <paramref name="expected"/>: a real conflict.</summary>
    private async ValueTask<bool> HasMovedPastAsync(string key, ulong expected, CancellationToken cancellationToken)
    {
        var last = await GetLastAsync(key, KvReadMode.Leader, cancellationToken).ConfigureAwait(false);
        return (last?.Revision ?? 0) > expected;
    }

    /// <summary>
    /// The revision of a compare-and-set write whose first attempt landed although its acknowledgement was lost: the key's
    /// last revision, if it is newer than <paramref name="expected"/> and holds the same operation and value. Another
    /// writer storing identical bytes in between reads as ours, which leaves the key as the caller wanted it.
    /// </summary>
    private async ValueTask<ulong?> FindOwnWriteAsync(string key, ReadOnlySequence<byte> value, ulong expected, KvOperation operation, CancellationToken cancellationToken)
    {
        var last = await GetLastAsync(key, KvReadMode.Leader, cancellationToken).ConfigureAwait(false);
        if (last is null || last.Revision <= expected || last.Operation != operation || last.MarkerReason != KvMarkerReason.None)
        {
            return null;
        }

        if (operation == KvOperation.Put && (last.Value.Length != value.Length || !SequenceEquals(value, last.Value.Span)))
        {
            return null;
        }

        return last.Revision;
    }

    private static bool SequenceEquals(in ReadOnlySequence<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.IsSingleSegment)
        {
            return a.FirstSpan.SequenceEqual(b);
        }

        foreach (var segment in a)
        {
            if (!segment.Span.SequenceEqual(b[..segment.Length]))
            {
                return false;
            }

            b = b[segment.Length..];
        }

        return true;
    }

    private void CheckSize(NatsHeaders? headers, long valueLength)
    {
        var limit = Info.Config.MaxMsgSize;
        if (limit > 0)
        {
            // A message without headers is sent without a header block, so it counts nothing towards the limit.
            var size = (headers is null || headers.Count == 0 ? 0 : headers.GetBytesLength()) + valueLength;
            if (size > limit)
            {
                throw new KvValueTooLargeException(Bucket, size, limit, "the bucket's max value size (headers included)");
            }
        }
    }
}
