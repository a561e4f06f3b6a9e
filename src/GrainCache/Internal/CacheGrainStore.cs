using System.Buffers;
using System.Globalization;
using CacheProvider.Connection;
using CacheProvider.KeyValue;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using Orleans.Runtime;

namespace CacheProvider.Grains.Caching.Internal;

/// <summary>
/// Silo singleton the cache grains share: the bucket and key scheme of the NATS grain storage named
/// <see cref="NatsCacheGrainOptions.StorageName"/>, its <see cref="GrainStateWatcher"/>, and counters.
/// Entries are written with the KV layer directly because each entry carries its own TTL (the grain storage's TTL is
/// per state name/type); the value is the caller's bytes, the exact deadlines travel in <c>Cache-Abs</c>/<c>Cache-Sld</c>.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Silo singleton; the bind gate holds no unmanaged resource.")]
internal sealed partial class CacheGrainStore
{
    public const string StateName = "cache";

    private readonly NatsGrainStorage _storage;
    private readonly KvContext _context;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _bind = new(1, 1);
    private KvBucket? _bucket;
    private long _storageReads;
    private long _storageWrites;

    public CacheGrainStore(IServiceProvider services, IOptions<NatsCacheGrainOptions> options)
    {
        Options = options.Value;
        _storage = services.GetRequiredKeyedService<NatsGrainStorage>(Options.StorageName);
        Watcher = services.GetRequiredKeyedService<GrainStateWatcher>(Options.StorageName);
        Time = services.GetService<TimeProvider>() ?? TimeProvider.System;
        _logger = (ILogger?)services.GetService<ILogger<CacheGrainStore>>() ?? NullLogger.Instance;
        _context = new KvContext(services.GetNatsConnection(_storage.Options.ConnectionServiceKey), new KvContextOptions { TimeProvider = Time });
    }

    public NatsCacheGrainOptions Options { get; }

    public GrainStateWatcher Watcher { get; }

    public TimeProvider Time { get; }

    /// <summary>KV reads done by activations (one per activation).</summary>
    public long StorageReads => Interlocked.Read(ref _storageReads);

    /// <summary>KV writes (sets, sliding renewals, removals).</summary>
    public long StorageWrites => Interlocked.Read(ref _storageWrites);

    public string KeyOf(GrainId grainId) => _storage.GetStateKey(StateName, grainId);

    public async ValueTask<KvEntry?> ReadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var bucket = await GetBucketAsync(cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _storageReads);
            return await bucket.GetLastAsync(key, _storage.Options.ReadMode, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsException ex)
        {
            throw Failure("read", key, ex);
        }
    }

    public async ValueTask<ulong> WriteAsync(string key, byte[] value, CacheEntryExpiration expiration, TimeSpan? ttl, CancellationToken cancellationToken)
    {
        try
        {
            return await WriteCoreAsync(key, value, expiration, ttl, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsException ex)
        {
            throw Failure("write", key, ex);
        }
    }

    private async ValueTask<ulong> WriteCoreAsync(string key, byte[] value, CacheEntryExpiration expiration, TimeSpan? ttl, CancellationToken cancellationToken)
    {
        var bucket = await GetBucketAsync(cancellationToken).ConfigureAwait(false);
        NatsHeaders? headers = null;
        if (expiration.AbsoluteUnixMs > 0 || expiration.SlidingMs > 0)
        {
            headers = [];
            if (expiration.AbsoluteUnixMs > 0)
            {
                headers[CacheExpiration.AbsoluteHeader] = expiration.AbsoluteUnixMs.ToString(CultureInfo.InvariantCulture);
            }

            if (expiration.SlidingMs > 0)
            {
                headers[CacheExpiration.SlidingHeader] = expiration.SlidingMs.ToString(CultureInfo.InvariantCulture);
            }
        }

        Interlocked.Increment(ref _storageWrites);
        return await bucket.PutAsync(key, new ReadOnlySequence<byte>(value), new KvPutOptions { Ttl = ttl, Headers = headers }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<ulong> RemoveAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var bucket = await GetBucketAsync(cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _storageWrites);
            return await bucket.PurgeAsync(key, _storage.Options.DeleteTombstoneTtl, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (NatsException ex)
        {
            throw Failure("remove", key, ex);
        }
    }

    /// <summary>
    /// A NATS failure as an exception Orleans can send to the caller (NATS.Net's types have no codec: the caller would
    /// get CodecNotFoundException); the original is logged.
    /// </summary>
    private NatsGrainStorageException Failure(string operation, string key, NatsException exception)
    {
        LogFailure(_logger, exception, operation, key, _storage.Name);
        return new NatsGrainStorageException($"Cache entry {operation} failed: ProviderName={_storage.Name} Key={key}. {exception.GetType().FullName}: {exception.Message}");
    }

    public static CacheEntryExpiration ExpirationOf(KvEntry entry)
    {
        long abs = 0, sld = 0;
        if (entry.Headers is { } headers)
        {
            if (headers.TryGetValue(CacheExpiration.AbsoluteHeader, out var a))
            {
                _ = long.TryParse(a.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out abs);
            }

            if (headers.TryGetValue(CacheExpiration.SlidingHeader, out var s))
            {
                _ = long.TryParse(s.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out sld);
            }
        }

        return new CacheEntryExpiration(abs, sld);
    }

    private async ValueTask<KvBucket> GetBucketAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _bucket) is { } bucket)
        {
            return bucket;
        }

        await _bind.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_bucket is null)
            {
                // The storage creates (or binds) the bucket with limit markers and history 1.
                await _storage.StartAsync(cancellationToken).ConfigureAwait(false);
                _bucket = await _context.GetBucketAsync(_storage.Options.Bucket, cancellationToken).ConfigureAwait(false);
            }

            return _bucket;
        }
        finally
        {
            _bind.Release();
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Cache entry {Operation} failed for {Key} in storage {Storage}")]
    private static partial void LogFailure(ILogger logger, Exception exception, string operation, string key, string storage);
}
