using System.Buffers;
using System.Globalization;
using CacheProvider.Nats.JetStream;
using CacheProvider.Nats.KeyValue.Internal;

namespace CacheProvider.Nats.KeyValue;

/// <summary>How a read is served.</summary>
public enum KvReadMode
{
    /// <summary>
    /// Direct get: any replica (or mirror) may answer; fastest. Answers from another stream (a mirror) are detected
    /// by their <c>Nats-Stream</c> header and re-read from the leader. Buckets without allow_direct read from the leader.
    /// </summary>
    Direct,

    /// <summary>
    /// From the stream leader (<c>STREAM.MSG.GET</c>): sees every acknowledged write. For a bucket bound to a mirror
    /// (of a bucket in the same domain) that is the origin's leader, where its writes go.
    /// </summary>
    Leader,
}

/// <summary>
/// One KV bucket: reads, writes with per-key TTL, compare-and-set, delete and purge (optionally self-expiring),
/// keys, history and watches that surface the server's expiry markers.
/// </summary>
public sealed partial class KvBucket
{
    private readonly KvContext _context;
    private readonly string _readPrefix;
    private readonly string _writePrefix;
    private readonly string _directPrefix;
    private readonly bool _directAllowed;
    private readonly string _leaderStream;

    // Set once a different stream (a mirror with mirror_direct) answered one of our direct gets: from then on
    // a 404 may be that mirror's (it has not caught up yet) and is confirmed with the leader.
    private volatile bool _foreignStreamAnswered;

    internal KvBucket(KvContext context, string bucket, StreamInfo info)
    {
        _context = context;
        Bucket = bucket;
        StreamName = KvContext.StreamName(bucket);
        Info = info;
        TimeProvider = context.TimeProvider;
        var origin = info.Config.Mirror?.Name is { } m && m.StartsWith("KV_", StringComparison.Ordinal) ? m[3..] : null;
        MirrorOrigin = origin;

        // A mirror stores the origin's subjects: read them under the origin's prefix, write to the origin.
        _readPrefix = $"$KV.{origin ?? bucket}.";
        _writePrefix = _readPrefix;
        _directPrefix = $"{context.JetStream.ApiPrefix}.DIRECT.GET.{StreamName}.{_readPrefix}";

        // Without allow_direct nobody answers direct gets (503): such buckets (created elsewhere) read from the leader.
        _directAllowed = info.Config.AllowDirect;

        // Leader reads promise read-your-writes. A mirror-bound bucket writes to the origin, so its leader reads
        // (and create's compare-and-set look-ups) go to the origin too; a mirror lags behind its origin. An origin
        // in another domain is not reachable with this context's API prefix: the mirror's leader is the best we have.
        _leaderStream = origin is not null && info.Config.Mirror?.External is null ? KvContext.StreamName(origin) : StreamName;
    }

    /// <summary>Bucket name.</summary>
    public string Bucket { get; }

    /// <summary>Underlying stream name.</summary>
    public string StreamName { get; }

    /// <summary>The stream info as of binding.</summary>
    public StreamInfo Info { get; }

    /// <summary>The origin bucket when this is a mirror.</summary>
    public string? MirrorOrigin { get; }

    /// <summary>Revisions kept per key.</summary>
    public long History => Info.Config.MaxMsgsPerSubject;

    /// <summary>Whether per-key TTL is allowed.</summary>
    public bool AllowsTtl => Info.Config.AllowMsgTtl;

    /// <summary>Time source for the client-side expiry check (the binding <see cref="KvContext"/>'s by default).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    private NatsConnection Connection => _context.JetStream.Connection;

    /// <summary>Current status (counters are live).</summary>
    public ValueTask<KvBucketStatus> GetStatusAsync(CancellationToken cancellationToken = default) => _context.GetStatusAsync(Bucket, cancellationToken);

    /// <summary>
    /// The current value of <paramref name="key"/>, or null when it has none: never written, deleted, purged,
    /// expired (marker), or past its TTL deadline even if the server has not swept it yet.
    /// </summary>
    public async ValueTask<KvEntry?> GetAsync(string key, KvReadMode mode = KvReadMode.Direct, CancellationToken cancellationToken = default)
    {
        var entry = await GetLastAsync(key, mode, null, cancellationToken).ConfigureAwait(false);
        return entry is { IsValue: true } && !entry.IsExpiredAt(TimeProvider.GetUtcNow()) ? entry : null;
    }

    /// <summary>
    /// Like <see cref="GetAsync(string, KvReadMode, CancellationToken)"/>, but the value is copied from the receive buffer
    /// straight into <paramref name="destination"/>; the returned entry carries metadata only. Nothing is written when
    /// the key has no current value.
    /// </summary>
    public async ValueTask<KvEntry?> GetAsync(string key, IBufferWriter<byte> destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var entry = await GetLastAsync(key, KvReadMode.Direct, destination, cancellationToken).ConfigureAwait(false);
        return entry is { IsValue: true } && !entry.IsExpiredAt(TimeProvider.GetUtcNow()) ? entry : null;
    }

    /// <summary>The latest revision of the key whatever it is (value, tombstone or marker); null when none.</summary>
    public async ValueTask<KvEntry?> GetLastAsync(string key, KvReadMode mode = KvReadMode.Direct, CancellationToken cancellationToken = default) =>
        await GetLastAsync(key, mode, null, cancellationToken).ConfigureAwait(false);

    private ValueTask<KvEntry?> GetLastAsync(string key, KvReadMode mode, IBufferWriter<byte>? destination, CancellationToken cancellationToken)
    {
        KvNames.ValidateKey(key);

        // A read into a caller's buffer is not repeated: a failed attempt may already have written part of it.
        return destination is null
            ? _context.JetStream.RetryReadAsync(ct => GetLastOnceAsync(key, mode, null, ct), cancellationToken)
            : GetLastOnceAsync(key, mode, destination, cancellationToken);
    }

    private async ValueTask<KvEntry?> GetLastOnceAsync(string key, KvReadMode mode, IBufferWriter<byte>? destination, CancellationToken cancellationToken)
    {
        if (mode == KvReadMode.Direct && _directAllowed)
        {
            var entry = await Connection.RequestAsync<KvEntry?, KvGetParser>(
                _directPrefix + key, null, ReadOnlySequence<byte>.Empty, new KvGetParser(Bucket, key, StreamName, destination, TimeProvider.GetUtcNow()), null, cancellationToken).ConfigureAwait(false);
            if (ReferenceEquals(entry, KvEntryReader.StreamMismatch))
            {
                // Another stream (a mirror with mirror_direct) answered for ours, possibly stale: ask the leader instead.
                _foreignStreamAnswered = true;
            }
            else if (entry is not null || !_foreignStreamAnswered)
            {
                return entry;
            }

            // A 404 carries no Nats-Stream header: once mirrors are known to answer for this stream it may be a
            // lagging mirror's "not found" for a key the origin already holds, so the leader confirms it.
        }

        var stored = await _context.JetStream.GetLastFromLeaderOnceAsync(_leaderStream, _readPrefix + key, cancellationToken).ConfigureAwait(false);
        if (stored is null)
        {
            return null;
        }

        var result = KvEntryReader.FromHeaders(Bucket, key, stored.Headers, stored.Data, stored.Data.Length, stored.Sequence, stored.Timestamp, 0);
        if (destination is not null && result.IsValue && !result.IsExpiredAt(TimeProvider.GetUtcNow()))
        {
            destination.Write(stored.Data.Span);
        }

        return result;
    }

    /// <summary>Writes a value. With <paramref name="ttl"/> the key expires on its own (and watchers see an expiry marker).</summary>
    /// <returns>The new revision.</returns>
    /// <exception cref="ArgumentOutOfRangeException">TTL below 1 s.</exception>
    /// <exception cref="InvalidOperationException">TTL on a bucket with history &gt; 1 (an older revision would come back on expiry).</exception>
    public ValueTask<ulong> PutAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? ttl = null, CancellationToken cancellationToken = default) =>
        WriteAsync(key, value, BuildHeaders(ttl, expectedRevision: null), cancellationToken);

    /// <summary>Writes a value only if the key has none (never written, deleted, purged or expired).</summary>
    /// <exception cref="KvKeyExistsException">The key holds a value.</exception>
    public async ValueTask<ulong> CreateAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? ttl = null, CancellationToken cancellationToken = default)
    {
        KvNames.ValidateKey(key);
        try
        {
            return await WriteAsync(key, value, BuildHeaders(ttl, expectedRevision: 0), cancellationToken).ConfigureAwait(false);
        }
        catch (JetStreamApiException ex) when (ex.IsWrongLastSequence)
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
                return await WriteAsync(key, value, BuildHeaders(ttl, expected), cancellationToken).ConfigureAwait(false);
            }
            catch (JetStreamApiException ex) when (ex.IsWrongLastSequence)
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
            return await WriteAsync(key, value, BuildHeaders(ttl, expectedRevision), cancellationToken).ConfigureAwait(false);
        }
        catch (JetStreamApiException ex) when (ex.IsWrongLastSequence)
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
        var headers = BuildHeaders(null, expectedRevision);
        headers.Add("KV-Operation", "DEL");
        try
        {
            return await WriteAsync(key, ReadOnlyMemory<byte>.Empty, headers, cancellationToken).ConfigureAwait(false);
        }
        catch (JetStreamApiException ex) when (ex.IsWrongLastSequence && expectedRevision is { } rev)
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
        var headers = BuildHeaders(tombstoneTtl, expectedRevision, allowWithHistory: true);
        headers.Add("KV-Operation", "PURGE");
        headers.Add("Nats-Rollup", "sub");
        try
        {
            return await WriteAsync(key, ReadOnlyMemory<byte>.Empty, headers, cancellationToken).ConfigureAwait(false);
        }
        catch (JetStreamApiException ex) when (ex.IsWrongLastSequence && expectedRevision is { } rev)
        {
            throw new KvWrongRevisionException(Bucket, key, rev, ex);
        }
    }

    private NatsHeaders BuildHeaders(TimeSpan? ttl, ulong? expectedRevision, bool allowWithHistory = false)
    {
        var headers = new NatsHeaders();
        if (ttl is { } t)
        {
            TtlFormat.Validate(t, nameof(ttl));
            if (!allowWithHistory && History > 1)
            {
                throw new InvalidOperationException(
                    $"Bucket '{Bucket}' keeps {History} revisions per key: a per-key TTL would bring the previous revision back when it expires. Use a bucket with History = 1 for TTL'd keys.");
            }

            headers.Add(TtlFormat.HeaderName, TtlFormat.Format(t));
        }

        if (expectedRevision is { } rev)
        {
            headers.Add("Nats-Expected-Last-Subject-Sequence", rev.ToString(CultureInfo.InvariantCulture));
        }

        return headers;
    }

    private async ValueTask<ulong> WriteAsync(string key, ReadOnlyMemory<byte> value, NatsHeaders headers, CancellationToken cancellationToken)
    {
        KvNames.ValidateKey(key);
        var limit = Info.Config.MaxMsgSize;
        if (limit > 0)
        {
            // A message without headers is sent without a header block, so it counts nothing towards the limit.
            var size = (headers.Count == 0 ? 0 : Nats.Internal.HeaderCodec.GetLength(headers)) + value.Length;
            if (size > limit)
            {
                throw new KvValueTooLargeException(Bucket, size, limit, "the bucket's max value size (headers included)");
            }
        }

        var ack = await _context.JetStream.PublishAsync(_writePrefix + key, value, headers.Count == 0 ? null : headers, cancellationToken).ConfigureAwait(false);
        return ack.Seq;
    }
}
