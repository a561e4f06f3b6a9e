using CacheProvider.Caching;
using CacheProvider.KeyValue;
using CacheProvider.Shared;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;

namespace CacheProvider.Grains.Caching.Internal;

/// <summary>
/// The front end's copies of cache values (<see cref="NearCache"/>: value + revision + deadline per KV key, bounded),
/// kept correct by one watch of the cache grains' keys (updates only, headers only): any later revision of a key — a
/// write, a removal, a sliding renewal, the server's expiry marker — drops its copy. Copies are served only while the
/// watch is live, and all are dropped on a watch resync or a disconnect. A read that started before such a flush, or
/// before the watch was live, never inserts its copy (a generation counter); a read that raced a newer change never
/// keeps its copy (the <see cref="NearCache"/> revision check).
/// </summary>
internal sealed partial class FrontNearCache : IAsyncDisposable
{
    private readonly NearCache _near;
    private readonly CacheBucketClient _bucket;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _startLock = new();
    private readonly int _maxValueBytes;
    private readonly string _bucketName;
    private Task? _loop;
    private long _generation;

    public FrontNearCache(CacheBucketClient bucket, OrleansDistributedCacheOptions options, ILogger logger)
    {
        _bucket = bucket;
        _logger = logger;
        _maxValueBytes = options.NearCacheMaxValueBytes;
        _bucketName = options.Bucket;
        _near = new NearCache(options.NearCacheMaxEntries, options.NearCacheMaxValueBytes);
        _bucket.Connection.ConnectionDisconnected += OnDisconnected;
    }

    public int Count => _near.Count;

    public bool Active => _near.Enabled;

    /// <summary>Taken before a grain read; <see cref="Offer"/> keeps the copy only if no flush happened since.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>For tests: raised after the watch processed a change (KV key, revision).</summary>
    internal event Action<string, ulong>? WatchProcessed;

    /// <summary>A live copy of <paramref name="kvKey"/> (shared: never change it), or false.</summary>
    public bool TryGet(string kvKey, long nowMs, out byte[] value)
    {
        EnsureStarted();
        if (_near.TryGet(kvKey, nowMs, out var entry))
        {
            value = entry.Value;
            return true;
        }

        value = null!;
        return false;
    }

    /// <summary>
    /// Keeps a copy of what the grain answered, when it allows one. <paramref name="sentMs"/> is when the call was sent:
    /// the copy's deadline counts from then, so it is never later than the grain meant, whatever the clocks say.
    /// </summary>
    public void Offer(string kvKey, CacheEntryRead read, long sentMs, long generation, long nowMs)
    {
        if (read.Value is not { } value || read.Revision == 0 || value.Length > _maxValueBytes || !_near.Enabled)
        {
            return;
        }

        long deadline = 0;
        if (read.CopyValidFor is { } validFor)
        {
            deadline = sentMs + (long)validFor.TotalMilliseconds;
            if (deadline <= nowMs)
            {
                return;
            }
        }

        // The caller gets the array it was given; the copy is ours alone.
        _near.Set(kvKey, (byte[])value.Clone(), read.Revision, deadline, 0, 0, nowMs);
        if (Generation != generation)
        {
            // A flush (or the watch going live) happened during the read: the copy may predate changes the watch missed.
            _near.Remove(kvKey);
        }
    }

    /// <summary>This process changed the key: the next read asks the grain.</summary>
    public void Remove(string kvKey) => _near.Remove(kvKey);

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _bucket.Connection.ConnectionDisconnected -= OnDisconnected;
        Flush();
        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        _stop.Dispose();
    }

    private void EnsureStarted()
    {
        if (_loop is not null || _stop.IsCancellationRequested)
        {
            return;
        }

        lock (_startLock)
        {
            _loop ??= Task.Run(WatchLoopAsync);
        }
    }

    private void Flush()
    {
        Interlocked.Increment(ref _generation);
        _near.Disable();
    }

    private void Enable()
    {
        Interlocked.Increment(ref _generation);
        _near.Enable();
    }

    private Task WatchLoopAsync() => WatchRetryLoop.RunAsync(
        async (live, token) =>
        {
            var bucket = await _bucket.GetBucketAsync(token).ConfigureAwait(false);
            var watcher = await bucket.StartWatchAsync([_bucket.Filter], new KvWatchOptions
            {
                UpdatesOnly = true,
                HeadersOnly = true,
                OnResync = reason =>
                {
                    // The watch resumes without skipping, but copies taken meanwhile may predate what it replays.
                    Flush();
                    Enable();
                    LogResync(_logger, _bucketName, reason);
                },
            }, token).ConfigureAwait(false);
            await using var _ = watcher.ConfigureAwait(false);
            Enable();
            live();
            await foreach (var entry in watcher.ReadAllAsync(token).ConfigureAwait(false))
            {
                _near.Invalidate(entry.Key, entry.Revision);
                WatchProcessed?.Invoke(entry.Key, entry.Revision);
            }
        },
        static ex => ex is NatsException or InvalidOperationException or OperationCanceledException,
        (ex, _) =>
        {
            Flush();
            LogWatchFailed(_logger, ex, _bucketName);
        },
        TimeProvider.System,
        _stop.Token);

    private ValueTask OnDisconnected(object? sender, NatsEventArgs e)
    {
        // Nobody can tell us about changes now; the watch's resync after the reconnect turns the copies back on.
        Flush();
        return default;
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Near cache of bucket {Bucket} flushed: watch resynced ({Reason})")]
    private static partial void LogResync(ILogger logger, string bucket, string reason);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Near-cache watch of bucket {Bucket} failed; no copies are served until it is back")]
    private static partial void LogWatchFailed(ILogger logger, Exception exception, string bucket);
}
