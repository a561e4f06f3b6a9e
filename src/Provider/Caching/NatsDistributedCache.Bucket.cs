using System.Runtime.CompilerServices;
using NATS.Client.Core;
using NATS.Client.JetStream;
using CacheProvider.KeyValue;
using Microsoft.Extensions.Logging;

namespace CacheProvider.Caching;

/// <summary>The bucket (created or checked once), the near-cache watch, and key events.</summary>
public sealed partial class NatsDistributedCache
{
    /// <summary>
    /// Keys of this cache that go away, as they happen: expired (the server's marker), removed (by any node) or
    /// purged, with the original key. Each call opens its own watch; it starts before this method's first element
    /// is awaited and runs until cancelled.
    /// </summary>
    public async IAsyncEnumerable<CacheKeyEvent> WatchKeyEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var bucket = await EnsureBucketAsync(cancellationToken).ConfigureAwait(false);
        var watcher = await bucket.StartWatchAsync([_codec.Filter], new KvWatchOptions { UpdatesOnly = true, HeadersOnly = true }, cancellationToken).ConfigureAwait(false);
        await using var _ = watcher.ConfigureAwait(false);
        await foreach (var entry in watcher.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (entry.IsValue)
            {
                continue;
            }

            var key = _codec.TryDecode(entry.Key, entry.Headers is { } h && h.TryGetLastValue(Internal.ExpirationPlan.KeyHeader, out var original) ? original : null, out var decoded) ? decoded : null;
            yield return CacheKeyEvent.Ended(key, entry);
        }
    }

    /// <summary>
    /// Every change of this cache's keys that this instance did not make, as it happens: other instances' writes and
    /// removals, and every expiry. This instance's own Sets, Removes and sliding renewals are told apart by their
    /// revision (an event that arrives before the write's acknowledgement waits for it) and are not reported.
    /// Instances and processes sharing the bucket each see the others' changes. The bucket keeps one revision per key,
    /// so a revision that a newer one replaced before the watch delivered it is skipped: the newest is always reported
    /// (or, when it is this instance's own, deliberately not). Runs until cancelled; throws when the watch fails (a
    /// caller that keeps state must treat that as "anything may have changed").
    /// </summary>
    /// <param name="onWatching">Called once the watch is live: changes from then on are reported.</param>
    /// <param name="onResync">
    /// Called (with the reason) when the watch had to be re-created after a connection loss or a gap: it resumes where
    /// it was, but a caller that cached values meanwhile may want to drop them.
    /// </param>
    /// <param name="cancellationToken">Ends the watch.</param>
    public async IAsyncEnumerable<CacheKeyChange> WatchChangesByOthersAsync(Action? onWatching = null, Action<string>? onResync = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var own = _ownWrites;
        if (own is null)
        {
            lock (_recent)
            {
                own = _ownWrites ??= new Internal.OwnWrites();
            }
        }

        var bucket = await EnsureBucketAsync(cancellationToken).ConfigureAwait(false);
        var watcher = await bucket.StartWatchAsync([_codec.Filter], new KvWatchOptions
        {
            UpdatesOnly = true,
            HeadersOnly = true,
            OnResync = onResync,
        }, cancellationToken).ConfigureAwait(false);
        await using var _ = watcher.ConfigureAwait(false);
        onWatching?.Invoke();

        // Hashed keys: removal and expiry markers carry no Cache-Key header, so remember the originals seen in writes.
        var hashedKeys = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var entry in watcher.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            var header = entry.Headers is { } h && h.TryGetLastValue(Internal.ExpirationPlan.KeyHeader, out var original) ? original : null;
            string? key = _codec.TryDecode(entry.Key, header, out var decoded) ? decoded : null;
            if (key is null)
            {
                hashedKeys.TryGetValue(entry.Key, out key);
            }
            else if (header is not null && entry.IsValue)
            {
                if (hashedKeys.Count >= RecentCapacity)
                {
                    hashedKeys.Clear();
                }

                hashedKeys[entry.Key] = key;
            }

            var kind = entry.IsValue
                ? CacheKeyChangeKind.Written
                : entry.MarkerReason switch
                {
                    KvMarkerReason.Expired => CacheKeyChangeKind.Expired,
                    KvMarkerReason.Purged => CacheKeyChangeKind.Purged,
                    _ => CacheKeyChangeKind.Removed,
                };
            if (kind is CacheKeyChangeKind.Written or CacheKeyChangeKind.Removed && await own.IsOwnAsync(entry.Key, entry.Revision, cancellationToken).ConfigureAwait(false))
            {
                continue;
            }

            yield return new CacheKeyChange(key, entry.Key, kind, entry.Revision);
        }
    }

    /// <summary>Connects, then creates the bucket if allowed, and checks it can serve a correct cache.</summary>
    /// <exception cref="NatsCacheConfigurationException">The bucket or server is unsuitable; the message says how to fix it.</exception>
    internal async ValueTask<KvBucket> EnsureBucketAsync(CancellationToken cancellationToken)
    {
        var bucket = _bucket;
        if (bucket is not null)
        {
            return bucket;
        }

        await _bucketLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_bucket is not null)
            {
                return _bucket;
            }

            var kv = new KvContext(_connection, new KvContextOptions { TimeProvider = _time });
            var version = await kv.ConnectAsync(cancellationToken).ConfigureAwait(false);
            if (version < KvContext.MinimumServerVersion)
            {
                throw new NatsCacheConfigurationException(
                    $"nats-server {version} is too old for a per-key-TTL cache: {KvContext.MinimumServerVersion} or newer is required (TTL expiry after restarts was fixed there).");
            }

            try
            {
                bucket = await kv.GetBucketAsync(_options.Bucket, cancellationToken).ConfigureAwait(false);
            }
            catch (NatsJSApiException ex) when (ex.Error.ErrCode == JetStreamErrorCodes.StreamNotFound && _options.CreateBucketIfMissing)
            {
                bucket = await kv.CreateBucketAsync(new KvBucketConfig
                {
                    Bucket = _options.Bucket,
                    History = 1,
                    LimitMarkerTtl = _options.LimitMarkerTtl,
                    Storage = _options.Storage,
                    Replicas = _options.Replicas,

                    // A Set's message id only has to outlive its own resends (KvPutOptions.RetryBudget, 10 s): a shorter
                    // window than the 2 min default keeps a quarter of the server's de-duplication memory.
                    DuplicateWindow = TimeSpan.FromSeconds(30),
                    Description = "IDistributedCache entries (CacheProvider)",
                }, cancellationToken).ConfigureAwait(false);
                _logger.LogInformation("Created cache bucket {Bucket}", _options.Bucket);
            }

            Validate(bucket);
            _bucket = bucket;
            return bucket;
        }
        finally
        {
            _bucketLock.Release();
        }
    }

    private void Validate(KvBucket bucket)
    {
        var c = bucket.Info.Config;
        if (c.MaxMsgsPerSubject != 1)
        {
            throw new NatsCacheConfigurationException(
                $"Bucket '{_options.Bucket}' keeps {c.MaxMsgsPerSubject} revisions per key; a TTL cache needs history 1 (an expired revision would bring the previous one back). Use another bucket, or recreate it with history 1.");
        }

        if (!c.AllowMsgTTL || c.SubjectDeleteMarkerTTL <= TimeSpan.Zero)
        {
            throw new NatsCacheConfigurationException(
                $"Bucket '{_options.Bucket}' has limit markers off; enable them (e.g. `nats kv edit {_options.Bucket} --marker-ttl 2s`, or KvContext.UpdateBucketAsync with LimitMarkerTtl) so per-key TTLs and expiry events work. The cache does not change an existing bucket by itself.");
        }

        if (c.Mirror is not null)
        {
            throw new NatsCacheConfigurationException($"Bucket '{_options.Bucket}' is a mirror (read-only); point the cache at its origin.");
        }
    }

    private void EnsureWatchStarted()
    {
        if (_watchLoop is not null || _disposed.IsCancellationRequested)
        {
            return;
        }

        lock (_recent)
        {
            _watchLoop ??= Task.Run(WatchLoopAsync);
        }
    }

    /// <summary>
    /// One bucket watch (updates only, headers only) drops near-cache entries that any node changed or the server
    /// expired. The near cache serves only while this watch is live; any gap or error flushes it.
    /// </summary>
    private Task WatchLoopAsync()
    {
        var near = _near!;
        return CacheProvider.Shared.WatchRetryLoop.RunAsync(
            async (live, token) =>
            {
                var bucket = await EnsureBucketAsync(token).ConfigureAwait(false);
                var watcher = await bucket.StartWatchAsync([_codec.Filter], new KvWatchOptions
                {
                    UpdatesOnly = true,
                    HeadersOnly = true,
                    OnResync = reason =>
                    {
                        // The consumer resumes without skipping, but values cached meanwhile may predate changes it
                        // is about to replay: start empty.
                        near.Disable();
                        near.Enable();
                        _logger.LogInformation("Near cache of {Bucket} flushed: watch resynced ({Reason})", _options.Bucket, reason);
                    },
                }, token).ConfigureAwait(false);
                await using var _ = watcher.ConfigureAwait(false);
                near.Enable();
                live();
                await foreach (var entry in watcher.ReadAllAsync(token).ConfigureAwait(false))
                {
                    if (near.Invalidate(entry.Key, entry.Revision))
                    {
                        Internal.CacheMetrics.Invalidation();
                    }

                    WatchProcessed?.Invoke(entry.Key);
                }
            },
            static ex => ex is NatsException or NatsCacheConfigurationException or OperationCanceledException,
            (ex, _) =>
            {
                near.Disable();
                _logger.LogWarning(ex, "Near-cache watch of {Bucket} failed; the near cache is off until it is back", _options.Bucket);
            },
            TimeProvider.System,
            _disposed.Token);
    }

    /// <summary>For measurements: raised after the near-cache watch processed a change of a KV key.</summary>
    internal event Action<string>? WatchProcessed;

    private ValueTask OnDisconnected(object? sender, NatsEventArgs e)
    {
        // While disconnected nobody can tell us about changes; after the reconnect the watch resync re-enables it.
        _near?.Disable();
        return default;
    }
}
