using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using CacheProvider.KeyValue.Internal;
using NATS.Client.JetStream.Models;

namespace CacheProvider.KeyValue;

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
    private readonly JsApi _js;
    private readonly string _readPrefix;
    private readonly string _writePrefix;
    private readonly string _directSubject;
    private readonly byte[] _directBodyPrefix;
    private readonly byte[] _streamBytes;
    private readonly bool _directAllowed;
    private readonly string _leaderStream;

    // Set once a different stream (a mirror with mirror_direct) answered one of our direct gets: from then on
    // a 404 may be that mirror's (it has not caught up yet) and is confirmed with the leader.
    private volatile bool _foreignStreamAnswered;

    internal KvBucket(KvContext context, string bucket, StreamInfo info)
    {
        _context = context;
        _js = context.Api;
        Bucket = bucket;
        StreamName = KvContext.StreamName(bucket);
        Info = info;
        TimeProvider = context.Options.TimeProvider;
        var origin = info.Config.Mirror?.Name is { } m && m.StartsWith("KV_", StringComparison.Ordinal) ? m[3..] : null;
        MirrorOrigin = origin;

        // A mirror stores the origin's subjects: read them under the origin's prefix, write to the origin.
        _readPrefix = $"$KV.{origin ?? bucket}.";
        _writePrefix = _readPrefix;
        _directSubject = $"{_js.Prefix}.DIRECT.GET.{StreamName}";
        _directBodyPrefix = Encoding.ASCII.GetBytes("{\"last_by_subj\":\"" + _readPrefix);
        _streamBytes = Encoding.ASCII.GetBytes(StreamName);

        // Without allow_direct nobody answers direct gets (503): such buckets (created elsewhere) read from the leader.
        _directAllowed = info.Config.AllowDirect;

        // Leader reads promise read-your-writes. A mirror-bound bucket writes to the origin, so its leader reads (and
        // create's compare-and-set look-ups) go to the origin too; a mirror lags behind its origin. An origin in another
        // domain is not reachable with this context's API prefix: the mirror's leader is the best we have.
        _leaderStream = origin is not null && info.Config.Mirror?.External is null ? KvContext.StreamName(origin) : StreamName;
    }

    /// <summary>
    /// Longest key accepted (characters; keys are ASCII). The key is part of the subject of every write, and the server
    /// closes a connection whose protocol line exceeds its <c>max_control_line</c> (4 KiB by default), so longer keys
    /// are refused up front with an <see cref="ArgumentException"/>.
    /// </summary>
    public const int MaxKeyLength = 2048;

    /// <summary>Bucket name.</summary>
    public string Bucket { get; }

    /// <summary>Underlying stream name.</summary>
    public string StreamName { get; }

    /// <summary>The stream info as of binding (NATS.Net's model).</summary>
    public StreamInfo Info { get; }

    /// <summary>The origin bucket when this is a mirror.</summary>
    public string? MirrorOrigin { get; }

    /// <summary>Revisions kept per key.</summary>
    public long History => Info.Config.MaxMsgsPerSubject;

    /// <summary>Whether per-key TTL is allowed.</summary>
    public bool AllowsTtl => Info.Config.AllowMsgTTL;

    /// <summary>Time source for the client-side expiry check (the binding <see cref="KvContext"/>'s by default).</summary>
    public TimeProvider TimeProvider { get; init; }

    /// <summary>Current status (counters are live).</summary>
    public ValueTask<KvBucketStatus> GetStatusAsync(CancellationToken cancellationToken = default) => _context.GetStatusAsync(Bucket, cancellationToken);

    /// <summary>
    /// The current value of <paramref name="key"/>, or null when it has none: never written, deleted, purged,
    /// expired (marker), or past its TTL deadline even if the server has not swept it yet.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<KvEntry?> GetAsync(string key, KvReadMode mode = KvReadMode.Direct, CancellationToken cancellationToken = default)
    {
        var entry = await GetLastAsync(key, mode, cancellationToken).ConfigureAwait(false);
        return entry is { IsValue: true } && !entry.IsExpiredAt(TimeProvider.GetUtcNow()) ? entry : null;
    }

    /// <summary>
    /// Like <see cref="GetAsync(string, KvReadMode, CancellationToken)"/>, but the value is copied from the receive buffer
    /// straight into <paramref name="destination"/>; the returned entry carries metadata only. Nothing is written when
    /// the key has no current value.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<KvEntry?> GetAsync(string key, IBufferWriter<byte> destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        KvNames.ValidateKey(key);
        var now = TimeProvider.GetUtcNow();

        // Not retried: a failed attempt may already have written part of the value.
        var entry = await ReadOnceAsync<WriterMaterializer, KvEntry?>(key, new(Bucket, destination, now.ToUnixTimeMilliseconds()), KvReadMode.Direct, cancellationToken).ConfigureAwait(false);
        return entry is { IsValue: true } && !entry.IsExpiredAt(now) ? entry : null;
    }

    /// <summary>The latest revision of the key whatever it is (value, tombstone or marker); null when none.</summary>
    public ValueTask<KvEntry?> GetLastAsync(string key, KvReadMode mode = KvReadMode.Direct, CancellationToken cancellationToken = default) =>
        ReadAsync<EntryMaterializer, KvEntry?>(key, new EntryMaterializer(Bucket), mode, cancellationToken);

    /// <summary>
    /// Reads the latest revision of <paramref name="key"/> (value, tombstone, marker or none) with
    /// <paramref name="reader"/>, which sees it while it is still in the receive buffer: no headers or value are
    /// materialised unless the reader copies them. Direct reads call the reader on the connection's read loop. Retried
    /// through leader elections like every read, so the reader may be called more than once for a failed attempt's
    /// reply only if that reply arrived (it never is for a timeout).
    /// </summary>
    /// <remarks>
    /// The reader also sees values past their TTL deadline (<see cref="KvRawEntry.IsExpiredAt"/> tells them) and
    /// tombstones, so a compare-and-set after a read can use their revision.
    /// </remarks>
    public ValueTask<TResult> ReadAsync<TReader, TResult>(string key, TReader reader, KvReadMode mode = KvReadMode.Direct, CancellationToken cancellationToken = default)
        where TReader : IKvEntryReader<TResult>
    {
        KvNames.ValidateKey(key);
        return _js.Options.ReadRetryBudget <= TimeSpan.Zero
            ? ReadOnceAsync<TReader, TResult>(key, reader, mode, cancellationToken)
            : ReadRetryingAsync<TReader, TResult>(key, reader, mode, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<TResult> ReadRetryingAsync<TReader, TResult>(string key, TReader reader, KvReadMode mode, CancellationToken cancellationToken)
        where TReader : IKvEntryReader<TResult>
    {
        // JetStreamRetry.ReadAsync's rules, inlined: its delegate would cost a closure on every read.
        var budget = _js.Options.ReadRetryBudget;
        var start = TimeProvider.System.GetTimestamp();
        var backoff = JetStreamRetry.FirstBackoff;
        while (true)
        {
            try
            {
                return await ReadOnceAsync<TReader, TResult>(key, reader, mode, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when ((JetStreamRetry.IsNotDelivered(ex) || JetStreamRetry.IsNoReply(ex)) &&
                                       TimeProvider.System.GetElapsedTime(start) < budget)
            {
            }

            var remaining = budget - TimeProvider.System.GetElapsedTime(start);
            await Task.Delay(remaining <= TimeSpan.Zero ? TimeSpan.Zero : backoff < remaining ? backoff : remaining, cancellationToken).ConfigureAwait(false);
            backoff = JetStreamRetry.Next(backoff);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<TResult> ReadOnceAsync<TReader, TResult>(string key, TReader reader, KvReadMode mode, CancellationToken cancellationToken)
        where TReader : IKvEntryReader<TResult>
    {
        if (mode == KvReadMode.Direct && _directAllowed)
        {
            var result = await DirectReadAsync<TReader, TResult>(key, reader, cancellationToken).ConfigureAwait(false);
            if (result.Foreign)
            {
                // Another stream (a mirror with mirror_direct) answered for ours, possibly stale: ask the leader instead.
                _foreignStreamAnswered = true;
            }
            else if (!_foreignStreamAnswered || !result.NotFound)
            {
                return result.Value;
            }

            // A 404 carries no Nats-Stream header: once mirrors are known to answer for this stream it may be a
            // lagging mirror's "not found" for a key the origin already holds, so the leader confirms it.
        }

        var stored = await _js.GetLastFromLeaderOnceAsync(_leaderStream, _readPrefix + key, cancellationToken).ConfigureAwait(false);
        return ReadStored<TReader, TResult>(key, stored, reader);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<DirectResult<TResult>> DirectReadAsync<TReader, TResult>(string key, TReader reader, CancellationToken cancellationToken)
        where TReader : IKvEntryReader<TResult>
    {
        var mux = await RequestMux.GetAsync(_js.Connection, cancellationToken).ConfigureAwait(false);

        // The body form ({"last_by_subj":…}) goes to one constant subject: no subject string is built per read.
        var length = _directBodyPrefix.Length + key.Length + 2;
        var body = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            _directBodyPrefix.CopyTo(body, 0);
            var n = _directBodyPrefix.Length + Encoding.ASCII.GetBytes(key, body.AsSpan(_directBodyPrefix.Length));
            body[n] = (byte)'"';
            body[n + 1] = (byte)'}';
            return await mux.RequestAsync<DirectResult<TResult>, DirectReadParser<TReader, TResult>>(
                _directSubject, new ReadOnlySequence<byte>(body, 0, n + 2), null, new(key, _streamBytes, reader), _js.RequestTimeout, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
    }

    private static TResult ReadStored<TReader, TResult>(string key, StoredEntry? stored, TReader reader)
        where TReader : IKvEntryReader<TResult>
    {
        if (stored is null)
        {
            return reader.Read(new KvRawEntry(key, default, default, 0, 0, 0, KvOperation.Put, KvMarkerReason.None, 0));
        }

        var p = EntryParser.Scan(stored.Headers);
        p.Sequence = stored.Sequence;
        p.CreatedTicks = stored.CreatedTicks;
        return reader.Read(p.ToRaw(key, stored.Headers, new ReadOnlySequence<byte>(stored.Data)));
    }

    internal KvEntry ToEntry(in Delivery delivery)
    {
        var subject = delivery.Msg.Subject;
        var key = subject.StartsWith(_readPrefix, StringComparison.Ordinal) ? subject[_readPrefix.Length..] : subject;
        var p = EntryParser.Scan(delivery.Msg.HeaderSpan);
        p.Sequence = delivery.StreamSequence;
        p.CreatedTicks = delivery.TimestampTicks;
        return p.ToEntry(Bucket, key, delivery.Msg.HeaderSpan, delivery.Msg.Payload, delivery.Msg.Payload.Length, delivery.Pending);
    }
}
