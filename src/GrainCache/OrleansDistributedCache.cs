using System.Buffers;
using CacheProvider.Caching;
using CacheProvider.Grains.Caching.Internal;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using Orleans;

namespace CacheProvider.Grains.Caching;

/// <summary>
/// <see cref="IDistributedCache"/> and <see cref="IBufferDistributedCache"/> served by Orleans cache grains (one per
/// key, <see cref="ICacheGrain"/>). Works wherever an <see cref="IGrainFactory"/> is registered: an Orleans client
/// (<c>UseOrleansClient</c>) or a silo host (co-hosted). Expirations are fixed here, at call time (relative beats
/// absolute; sliding capped by absolute), and kept by the grain as the entry's KV TTL. With the app's NATS.Net
/// connection it also reports key events (<see cref="WatchKeyEventsAsync"/>) and can keep a near cache
/// (<see cref="OrleansDistributedCacheOptions.NearCacheEnabled"/>). Thread-safe.
/// </summary>
/// <remarks>
/// The synchronous <see cref="IDistributedCache"/> members block on the asynchronous ones; prefer the async members.
/// </remarks>
public sealed partial class OrleansDistributedCache : IDistributedCache, IBufferDistributedCache, ICacheKeyEventSource, IAsyncDisposable
{
    private static readonly DistributedCacheEntryOptions NoExpiration = new();
    private readonly IGrainFactory _grains;
    private readonly OrleansDistributedCacheOptions _options;
    private readonly TimeProvider _time;
    private readonly CacheBucketClient? _bucket;
    private readonly FrontNearCache? _near;

    /// <summary>Creates the cache.</summary>
    /// <param name="grainFactory">Orleans' grain factory (a cluster client or a silo's).</param>
    /// <param name="options">Settings; null = defaults.</param>
    /// <param name="timeProvider">Clock for expirations and copy deadlines.</param>
    /// <param name="connection">
    /// The app's NATS.Net connection, for key events and the near cache; null = neither is available. It is not owned.
    /// </param>
    /// <param name="logger">Logger (near-cache watch failures).</param>
    /// <exception cref="ArgumentException">The near cache is enabled without a connection or a service id.</exception>
    public OrleansDistributedCache(IGrainFactory grainFactory, IOptions<OrleansDistributedCacheOptions>? options = null, TimeProvider? timeProvider = null, INatsConnection? connection = null, ILogger<OrleansDistributedCache>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(grainFactory);
        _grains = grainFactory;
        _options = options?.Value ?? new OrleansDistributedCacheOptions();
        _time = timeProvider ?? TimeProvider.System;
        if (connection is not null)
        {
            _bucket = new CacheBucketClient(connection, _options, grainFactory, _time);
        }

        if (_options.NearCacheEnabled)
        {
            if (_bucket is null)
            {
                throw new ArgumentException("The near cache needs a NATS connection to watch the cache's bucket.", nameof(connection));
            }

            if (string.IsNullOrEmpty(_options.ServiceId))
            {
                throw new ArgumentException("The near cache needs OrleansDistributedCacheOptions.ServiceId (the cache grain storage's service id).", nameof(options));
            }

            _near = new FrontNearCache(_bucket, _options, (ILogger?)logger ?? NullLogger.Instance);
        }
    }

    /// <summary>Copies currently held by the near cache (0 when it is off).</summary>
    public int NearCacheCount => _near?.Count ?? 0;

    /// <summary>Whether the near cache is serving (its bucket watch is live).</summary>
    public bool NearCacheActive => _near?.Active ?? false;

    internal FrontNearCache? Near => _near;

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <inheritdoc />
    public byte[]? Get(string key) => GetAsync(key).GetAwaiter().GetResult();

    /// <inheritdoc />
    public Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        CheckKey(key);
        if (token.IsCancellationRequested)
        {
            // Even a near hit, which needs no call: a cancelled call never succeeds.
            return Task.FromCanceled<byte[]?>(token);
        }

        if (_near is null)
        {
            return Grain(key).Get().WaitAsync(token);
        }

        var kvKey = _bucket!.KvKeyOf(key);
        if (_near.TryGet(kvKey, NowMs, out var copy))
        {
            // The caller gets its own array: the copy is shared by every reader.
            return Task.FromResult<byte[]?>(copy.Length == 0 ? [] : (byte[])copy.Clone());
        }

        return GetAndCopyAsync(Grain(key), kvKey, token);
    }

    /// <inheritdoc />
    public bool TryGet(string key, IBufferWriter<byte> destination) => TryGetAsync(key, destination).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public async ValueTask<bool> TryGetAsync(string key, IBufferWriter<byte> destination, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        CheckKey(key);
        token.ThrowIfCancellationRequested();
        if (_near is not null)
        {
            var kvKey = _bucket!.KvKeyOf(key);
            if (_near.TryGet(kvKey, NowMs, out var copy))
            {
                destination.Write(copy);
                return true;
            }

            var read = await GetAndCopyAsync(Grain(key), kvKey, token).ConfigureAwait(false);
            if (read is null)
            {
                return false;
            }

            destination.Write(read);
            return true;
        }

        var value = await GetAsync(key, token).ConfigureAwait(false);
        if (value is null)
        {
            return false;
        }

        destination.Write(value);
        return true;
    }

    /// <inheritdoc />
    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => SetAsync(key, value, options).GetAwaiter().GetResult();

    /// <inheritdoc />
    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(options);
        var grain = Grain(key);
        var expiration = CacheExpiration.From(options, _time.GetUtcNow());
        if (token.IsCancellationRequested)
        {
            // Checked before the call: once sent, the grain stores the value whatever the caller's token says.
            return Task.FromCanceled(token);
        }

        return _near is null ? grain.Set(value, expiration).WaitAsync(token) : SetAndForgetCopyAsync(key, grain, value, expiration, token);
    }

    private async Task SetAndForgetCopyAsync(string key, ICacheGrain grain, byte[] value, CacheEntryExpiration expiration, CancellationToken token)
    {
        var kvKey = ForgetCopy(key);
        try
        {
            await grain.Set(value, expiration).WaitAsync(token).ConfigureAwait(false);
        }
        finally
        {
            // Read-your-writes here: a copy inserted meanwhile by an older read goes too (the watch would drop it shortly).
            ForgetKvKey(kvKey);
        }
    }

    /// <inheritdoc />
    public void Set(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options) => SetAsync(key, value, options).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public ValueTask SetAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
        new(SetAsync(key, value.ToArray(), options, token));

    /// <inheritdoc />
    public void Refresh(string key) => RefreshAsync(key).GetAwaiter().GetResult();

    /// <inheritdoc />
    public Task RefreshAsync(string key, CancellationToken token = default)
    {
        var grain = Grain(key);
        if (token.IsCancellationRequested)
        {
            return Task.FromCanceled(token);
        }

        if (_near is not null && _near.TryGet(_bucket!.KvKeyOf(key), NowMs, out _))
        {
            // A live copy means the grain keeps the entry at least one window past now (the near-cache rule): nothing to extend.
            return Task.CompletedTask;
        }

        return grain.Refresh().WaitAsync(token);
    }

    /// <inheritdoc />
    public void Remove(string key) => RemoveAsync(key).GetAwaiter().GetResult();

    /// <inheritdoc />
    public Task RemoveAsync(string key, CancellationToken token = default)
    {
        var grain = Grain(key);
        if (token.IsCancellationRequested)
        {
            return Task.FromCanceled(token);
        }

        return _near is null ? grain.Remove().WaitAsync(token) : RemoveAndForgetCopyAsync(key, grain, token);
    }

    private async Task RemoveAndForgetCopyAsync(string key, ICacheGrain grain, CancellationToken token)
    {
        var kvKey = ForgetCopy(key);
        try
        {
            await grain.Remove().WaitAsync(token).ConfigureAwait(false);
        }
        finally
        {
            ForgetKvKey(kvKey);
        }
    }

    /// <summary>
    /// Read-through: the cached value, or the one <paramref name="factory"/> makes. Across the cluster one caller per
    /// missing key runs the factory; the others wait on that key's grain and get its result. A factory that throws
    /// gives the turn to the next waiter (the exception reaches its own caller only).
    /// </summary>
    public async Task<byte[]> GetOrCreateAsync(string key, Func<CancellationToken, Task<byte[]>> factory, DistributedCacheEntryOptions? options = null, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(factory);
        var grain = Grain(key);
        token.ThrowIfCancellationRequested();
        if (_near is not null && _near.TryGet(_bucket!.KvKeyOf(key), NowMs, out var copy))
        {
            return copy.Length == 0 ? [] : (byte[])copy.Clone();
        }

        while (true)
        {
            var lookup = await grain.GetOrLease(_options.LeaseWait).WaitAsync(token).ConfigureAwait(false);
            if (lookup.Value is { } cached)
            {
                return cached;
            }

            if (lookup.Lease is not { } lease)
            {
                continue;
            }

            byte[] value;
            try
            {
                _ = CacheExpiration.From(options ?? NoExpiration, _time.GetUtcNow()); // invalid options fail before the factory runs
                value = await factory(token).ConfigureAwait(false) ?? throw new InvalidOperationException("The cache factory returned null.");

                // Relative expirations count from when the value exists.
                await grain.CompleteLease(lease, value, CacheExpiration.From(options ?? NoExpiration, _time.GetUtcNow())).ConfigureAwait(false);
            }
            catch
            {
                await grain.AbandonLease(lease).ConfigureAwait(false);
                throw;
            }

            return value;
        }
    }

    /// <summary>Stops the near cache's watch. The NATS connection is not disposed (it is the app's).</summary>
    public ValueTask DisposeAsync() => _near?.DisposeAsync() ?? default;

    private async Task<byte[]?> GetAndCopyAsync(ICacheGrain grain, string kvKey, CancellationToken token)
    {
        var near = _near!;
        var generation = near.Generation;
        var sent = NowMs;
        var read = await grain.GetForNearCache().WaitAsync(token).ConfigureAwait(false);
        near.Offer(kvKey, read, sent, generation, NowMs);
        return read.Value;
    }

    private string? ForgetCopy(string key)
    {
        if (_near is null)
        {
            return null;
        }

        var kvKey = _bucket!.KvKeyOf(key);
        _near.Remove(kvKey);
        return kvKey;
    }

    private void ForgetKvKey(string? kvKey)
    {
        if (kvKey is not null)
        {
            _near!.Remove(kvKey);
        }
    }

    private ICacheGrain Grain(string key)
    {
        CheckKey(key);
        return _grains.GetGrain<ICacheGrain>(key);
    }

    // The cache key is the grain key, and Orleans refuses blank ones: say so about "key", not Orleans' "primaryKey".
    private static void CheckKey(string key) => ArgumentException.ThrowIfNullOrWhiteSpace(key);
}
