using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using CacheProvider.Caching.Internal;
using NATS.Client.Core;
using NATS.Client.JetStream;
using CacheProvider.KeyValue;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CacheProvider.Caching;

/// <summary>
/// <see cref="IDistributedCache"/> and <see cref="IBufferDistributedCache"/> on a NATS JetStream KV bucket. Each entry
/// is one KV key whose payload is exactly the caller's bytes; expiration travels as the server's per-message TTL
/// (<c>Nats-TTL</c>) plus <c>Cache-Abs</c>/<c>Cache-Sld</c> headers. Sliding entries are rewritten at most once per
/// <see cref="NatsDistributedCacheOptions.SlidingRenewalFraction"/> of their window; removals leave no permanent
/// tombstone; an optional near cache is invalidated by a bucket watch. Thread-safe.
/// </summary>
/// <remarks>
/// The synchronous <see cref="IDistributedCache"/> members block on the asynchronous ones (the NATS client has no
/// synchronous path); prefer the async members.
/// </remarks>
public sealed partial class NatsDistributedCache : IDistributedCache, IBufferDistributedCache, ICacheKeyEventSource, IAsyncDisposable
{
    /// <summary>
    /// Longest key, in UTF-8 bytes (32 KiB: 32,768 ASCII characters). Any string up to it works; every operation
    /// refuses a longer key with an <see cref="ArgumentException"/> before any request.
    /// </summary>
    public const int MaxKeyBytes = CacheKeyCodec.MaxKeyBytes;

    private const int RecentCapacity = 10_000;
    private readonly INatsConnection _connection;
    private readonly NatsDistributedCacheOptions _options;
    private readonly TimeProvider _time;

    // The near-hit path reads the clock on every call; the system clock is read directly (no virtual call, no DateTimeOffset).
    private readonly bool _systemClock;
    private readonly ILogger _logger;
    private readonly CacheKeyCodec _codec;
    private readonly NearCache? _near;
    private readonly ConcurrentDictionary<string, RecentEntry> _recent = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _bucketLock = new(1, 1);
    private readonly CancellationTokenSource _disposed = new();

    // Set ids: unique per instance (random prefix) and per call (counter); only used with IdempotentWrites.
    private readonly string _msgIdPrefix = Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
    private long _msgIdCounter;
    private KvBucket? _bucket;
    private Task? _watchLoop;

    // Set once a watch of other instances' changes starts: from then on, this instance's writes are told apart by revision.
    private volatile OwnWrites? _ownWrites;

    // A Set of this key, on this async flow, is skipped (see SuppressWriteOf).
    private readonly AsyncLocal<string?> _suppressedWrite = new();

    /// <summary>Creates a cache on <paramref name="connection"/> (which it does not own).</summary>
    public NatsDistributedCache(INatsConnection connection, NatsDistributedCacheOptions options, ILogger<NatsDistributedCache>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(options);
        _connection = connection;
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _systemClock = ReferenceEquals(_time, TimeProvider.System);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _codec = new CacheKeyCodec(options.KeyPrefix);
        if (options.NearCacheEnabled)
        {
            _near = new NearCache(options.NearCacheMaxEntries, options.NearCacheMaxValueBytes);
            _connection.ConnectionDisconnected += OnDisconnected;
        }
    }

    /// <summary>The bucket name.</summary>
    public string Bucket => _options.Bucket;

    /// <summary>The NATS.Net connection the cache uses (not owned).</summary>
    public INatsConnection Connection => _connection;

    /// <summary>Entries currently held by the near cache (0 when it is off).</summary>
    public int NearCacheCount => _near?.Count ?? 0;

    /// <summary>Whether the near cache is serving (its watch is live).</summary>
    public bool NearCacheActive => _near?.Enabled ?? false;

    private long NowMs => _systemClock ? CacheTimestamps.SystemNowMs() : _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <inheritdoc />
    public byte[]? Get(string key) => GetAsync(key).GetAwaiter().GetResult();

    /// <inheritdoc />
    public Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (token.IsCancellationRequested)
        {
            // Even a near hit, which needs no request: a cancelled call never succeeds (as RedisCache).
            return Task.FromCanceled<byte[]?>(token);
        }

        var kvKey = _codec.Encode(key, out var hashed);
        if (TryNear(kvKey, out var near))
        {
            // Synchronous on a near hit. The caller gets its own copy: a shared array could be changed under other readers.
            CacheMetrics.Hit(near: true);
            return Task.FromResult<byte[]?>(near.Value.Length == 0 ? [] : (byte[])near.Value.Clone());
        }

        return GetRemoteAsync(key, kvKey, hashed, token);
    }

    private async Task<byte[]?> GetRemoteAsync(string key, string kvKey, bool hashed, CancellationToken token)
    {
        using var activity = StartActivity("cache.get", kvKey);
        var start = Stopwatch.GetTimestamp();
        var read = await ReadAsync(kvKey, hashed ? CacheKeyCodec.KeyHeaderValue(key) : null, null, wantCopy: false, token).ConfigureAwait(false);
        var value = await CompleteReadAsync(kvKey, hashed ? key : null, read, token).ConfigureAwait(false) ? read.Value : null;
        CacheMetrics.Elapsed("get", start);
        return value;
    }

    /// <inheritdoc />
    public bool TryGet(string key, IBufferWriter<byte> destination) => TryGetAsync(key, destination).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public ValueTask<bool> TryGetAsync(string key, IBufferWriter<byte> destination, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(destination);
        if (token.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(token);
        }

        var kvKey = _codec.Encode(key, out var hashed);
        if (TryNear(kvKey, out var near))
        {
            CacheMetrics.Hit(near: true);
            destination.Write(near.Value);
            return new ValueTask<bool>(true);
        }

        return TryGetRemoteAsync(key, kvKey, hashed, destination, token);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> TryGetRemoteAsync(string key, string kvKey, bool hashed, IBufferWriter<byte> destination, CancellationToken token) =>
        await TryGetRevisionRemoteAsync(key, kvKey, hashed, destination, token).ConfigureAwait(false) != 0;

    /// <summary>The remote read behind the buffer API: the revision read on a hit, 0 on a miss.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ulong> TryGetRevisionRemoteAsync(string key, string kvKey, bool hashed, IBufferWriter<byte> destination, CancellationToken token)
    {
        using var activity = StartActivity("cache.get", kvKey);
        var start = Stopwatch.GetTimestamp();
        var read = await ReadAsync(kvKey, hashed ? CacheKeyCodec.KeyHeaderValue(key) : null, destination, wantCopy: _near is not null, token).ConfigureAwait(false);
        var hit = await CompleteReadAsync(kvKey, hashed ? key : null, read, token).ConfigureAwait(false);
        CacheMetrics.Elapsed("get", start);
        return hit ? read.Revision : 0;
    }

    /// <inheritdoc />
    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => SetAsync(key, value, options).GetAwaiter().GetResult();

    /// <inheritdoc />
    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        return SetCoreAsync(key, new ReadOnlySequence<byte>(value), options, token).AsTask();
    }

    /// <inheritdoc />
    public void Set(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options) => SetAsync(key, value, options).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public ValueTask SetAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
        SetCoreAsync(key, value, options, token);

    /// <inheritdoc />
    public void Refresh(string key) => RefreshAsync(key).GetAwaiter().GetResult();

    /// <inheritdoc />
    public async Task RefreshAsync(string key, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        token.ThrowIfCancellationRequested();
        var kvKey = _codec.Encode(key, out var hashed);
        var now = NowMs;
        if (_recent.TryGetValue(kvKey, out var seen) && !ExpirationPlan.NeedsRenewal(seen.SlidingMs, seen.ServerDeadlineMs, seen.AbsoluteMs, now))
        {
            return; // a read just now left at least one window: nothing to extend, no round trip
        }

        var read = await ReadAsync(kvKey, hashed ? CacheKeyCodec.KeyHeaderValue(key) : null, null, wantCopy: true, token).ConfigureAwait(false);
        await CompleteReadAsync(kvKey, hashed ? key : null, read, token).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public void Remove(string key) => RemoveAsync(key).GetAwaiter().GetResult();

    /// <inheritdoc />
    public async Task RemoveAsync(string key, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var start = Stopwatch.GetTimestamp();
        var kvKey = _codec.Encode(key, out _);
        using var activity = StartActivity("cache.remove", kvKey);
        var bucket = await EnsureBucketAsync(token).ConfigureAwait(false);
        _near?.Remove(kvKey);
        _recent.TryRemove(kvKey, out _);

        // Purge with a TTL: the tombstone removes itself and writes no marker, so churn leaves nothing behind.
        var own = _ownWrites;
        var pending = own?.Begin(kvKey);
        ulong revision = 0;
        try
        {
            revision = await bucket.PurgeAsync(kvKey, _options.RemoveTombstoneTtl, cancellationToken: token).ConfigureAwait(false);
        }
        finally
        {
            own?.End(kvKey, pending.GetValueOrDefault(), revision);
        }

        _near?.Remove(kvKey);
        CacheMetrics.Remove();
        CacheMetrics.Elapsed("remove", start);
    }

    /// <summary>Stops the near-cache watch. The connection is not disposed (it is shared).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        await _disposed.CancelAsync().ConfigureAwait(false);
        _connection.ConnectionDisconnected -= OnDisconnected;
        _near?.Disable();
        if (_watchLoop is not null)
        {
            try
            {
                await _watchLoop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        _disposed.Dispose();
    }

    private async ValueTask SetCoreAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(options);
        if (_suppressedWrite.Value is { } suppressed && string.Equals(suppressed, key, StringComparison.Ordinal))
        {
            return;
        }

        var start = Stopwatch.GetTimestamp();
        var now = _time.GetUtcNow();
        var plan = ExpirationPlan.From(options, now, _options.SlidingRenewalFraction);
        var kvKey = _codec.Encode(key, out var hashed);
        using var activity = StartActivity("cache.set", kvKey);
        var bucket = await EnsureBucketAsync(token).ConfigureAwait(false);
        var keyHeader = hashed ? CacheKeyCodec.KeyHeaderValue(key) : null;
        _near?.Remove(kvKey);
        var own = _ownWrites;
        var pending = own?.Begin(kvKey);
        ulong revision = 0;
        try
        {
            revision = await bucket.PutAsync(kvKey, value, new KvPutOptions
            {
                Ttl = plan.ServerTtl,
                Headers = MetadataHeaders(plan.AbsoluteUnixMs, plan.SlidingMs, keyHeader),
                MsgId = _options.IdempotentWrites ? NextMsgId() : null,
            }, token).ConfigureAwait(false);
        }
        finally
        {
            own?.End(kvKey, pending.GetValueOrDefault(), revision);
        }

        var nowMs = now.ToUnixTimeMilliseconds();
        var serverDeadline = ExpirationPlan.DeadlineOfWrite(nowMs, plan.ServerTtl, plan.SlidingMs, _options.SlidingRenewalFraction);
        Remember(kvKey, serverDeadline, plan.AbsoluteUnixMs, plan.SlidingMs);
        if (_near is { Enabled: true } && value.Length <= _options.NearCacheMaxValueBytes)
        {
            _near.Set(kvKey, value.ToArray(), revision, Deadline(serverDeadline, plan.AbsoluteUnixMs), serverDeadline, plan.SlidingMs, nowMs);
        }

        CacheMetrics.Set();
        CacheMetrics.Elapsed("set", start);
    }

    private string NextMsgId() =>
        string.Create(CultureInfo.InvariantCulture, $"{_msgIdPrefix}-{Interlocked.Increment(ref _msgIdCounter)}");

    private bool TryNear(string kvKey, out NearCache.Entry entry)
    {
        if (_near is null)
        {
            entry = null!;
            return false;
        }

        EnsureWatchStarted();
        var now = NowMs;
        if (_near.TryGet(kvKey, now, out entry))
        {
            if (!ExpirationPlan.NeedsRenewal(entry.SlidingMs, entry.ServerDeadlineMs, 0, now))
            {
                return true;
            }

            // A sliding entry near the end of its stored TTL: the remote path renews it.
            _near.Remove(kvKey);
        }

        return false;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<CacheRead> ReadAsync(string kvKey, string? keyHeader, IBufferWriter<byte>? destination, bool wantCopy, CancellationToken token)
    {
        var bucket = await EnsureBucketAsync(token).ConfigureAwait(false);
        return await bucket.ReadAsync<CacheReadParser, CacheRead>(
            kvKey, new CacheReadParser(destination, NowMs, keyHeader, wantCopy, _options.SlidingRenewalFraction), _options.ReadFromLeader ? KvReadMode.Leader : KvReadMode.Direct, token).ConfigureAwait(false);
    }

    /// <summary>Counts the read, renews a sliding entry that needs it, feeds the near cache.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> CompleteReadAsync(string kvKey, string? hashedKey, CacheRead read, CancellationToken token)
    {
        switch (read.Status)
        {
            case CacheReadStatus.Hit:
                break;
            case CacheReadStatus.Expired:
                CacheMetrics.Miss("expired");
                _recent.TryRemove(kvKey, out _);
                return false;
            case CacheReadStatus.KeyMismatch:
                CacheMetrics.Miss("hash_collision");
                _logger.LogWarning("Hashed cache key collided in bucket {Bucket}; treated as a miss", _options.Bucket);
                return false;
            default:
                CacheMetrics.Miss("not_found");
                _recent.TryRemove(kvKey, out _);
                return false;
        }

        CacheMetrics.Hit(near: false);
        var now = NowMs;
        var revision = read.Revision;
        var serverDeadline = read.ServerDeadlineMs;
        if (read.Value is not null && ExpirationPlan.NeedsRenewal(read.SlidingMs, read.ServerDeadlineMs, read.AbsoluteMs, now))
        {
            (revision, serverDeadline) = await RenewAsync(kvKey, hashedKey, read, token).ConfigureAwait(false);
        }

        Remember(kvKey, serverDeadline, read.AbsoluteMs, read.SlidingMs);
        if (read.Value is not null && _near is { Enabled: true })
        {
            _near.Set(kvKey, read.Value, revision, Deadline(serverDeadline, read.AbsoluteMs), serverDeadline, read.SlidingMs, now);
        }

        return true;
    }

    /// <summary>Rewrites a sliding entry with a fresh TTL, only if nobody changed it meanwhile.</summary>
    private async ValueTask<(ulong Revision, long ServerDeadlineMs)> RenewAsync(string kvKey, string? hashedKey, CacheRead read, CancellationToken token)
    {
        var bucket = await EnsureBucketAsync(token).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        var ttl = ExpirationPlan.TtlAt(read.AbsoluteMs, read.SlidingMs, now, _options.SlidingRenewalFraction);
        var own = _ownWrites;
        var pending = own?.Begin(kvKey);
        ulong revision = 0;
        try
        {
            revision = await bucket.PutAsync(kvKey, new ReadOnlySequence<byte>(read.Value!), new KvPutOptions
            {
                Ttl = ttl,
                ExpectedRevision = read.Revision,
                Headers = MetadataHeaders(read.AbsoluteMs, read.SlidingMs, hashedKey is null ? null : CacheKeyCodec.KeyHeaderValue(hashedKey)),
            }, token).ConfigureAwait(false);
            CacheMetrics.Renewal();
            var deadline = ExpirationPlan.DeadlineOfWrite(now.ToUnixTimeMilliseconds(), ttl, read.SlidingMs, _options.SlidingRenewalFraction);
            return (revision, deadline);
        }
        catch (KvWrongRevisionException)
        {
            // Another reader renewed it, or a writer replaced it: the value we read was current, so it is still a hit.
            return (read.Revision, read.ServerDeadlineMs);
        }
        finally
        {
            own?.End(kvKey, pending.GetValueOrDefault(), revision);
        }
    }

    private static NatsHeaders? MetadataHeaders(long absoluteMs, long slidingMs, string? keyHeader)
    {
        if (absoluteMs <= 0 && slidingMs <= 0 && keyHeader is null)
        {
            return null;
        }

        var headers = new NatsHeaders();
        if (absoluteMs > 0)
        {
            headers.Add(ExpirationPlan.AbsoluteHeader, absoluteMs.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        if (slidingMs > 0)
        {
            headers.Add(ExpirationPlan.SlidingHeader, slidingMs.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        if (keyHeader is not null)
        {
            headers.Add(ExpirationPlan.KeyHeader, keyHeader);
        }

        return headers;
    }

    private void Remember(string kvKey, long serverDeadlineMs, long absoluteMs, long slidingMs)
    {
        if (slidingMs <= 0)
        {
            // Only sliding entries have anything to refresh; a Refresh of another key reads it once (as RedisCache does).
            return;
        }

        var entry = new RecentEntry(serverDeadlineMs, absoluteMs, slidingMs);
        if (_recent.TryGetValue(kvKey, out var known) && known == entry)
        {
            return; // unchanged until the next renewal: no write, no contention on hot keys
        }

        if (_recent.Count >= RecentCapacity)
        {
            _recent.Clear();
        }

        _recent[kvKey] = entry;
    }

    /// <summary>A span for a remote operation; null (and free) when nobody listens.</summary>
    private Activity? StartActivity(string name, string kvKey)
    {
        var activity = CacheMetrics.Source.StartActivity(name, ActivityKind.Client);
        if (activity is not null)
        {
            // The KV key, not the caller's key: the KV key is what operators see in the bucket.
            activity.SetTag("db.system", "nats");
            activity.SetTag("nats.kv.bucket", _options.Bucket);
            activity.SetTag("nats.kv.key", kvKey);
        }

        return activity;
    }

    private static long Deadline(long serverDeadline, long absolute) =>
        serverDeadline == 0 ? absolute : absolute == 0 ? serverDeadline : Math.Min(serverDeadline, absolute);

    private readonly record struct RecentEntry(long ServerDeadlineMs, long AbsoluteMs, long SlidingMs);
}
