using System.Buffers;
using CacheProvider.Grains.Caching.Internal;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Options;
using Orleans;

namespace CacheProvider.Grains.Caching;

/// <summary>
/// <see cref="IDistributedCache"/> and <see cref="IBufferDistributedCache"/> served by Orleans cache grains (one per
/// key, <see cref="ICacheGrain"/>). Works wherever an <see cref="IGrainFactory"/> is registered: an Orleans client
/// (<c>UseOrleansClient</c>) or a silo host (co-hosted). Expirations are fixed here, at call time (relative beats
/// absolute; sliding capped by absolute), and kept by the grain as the entry's KV TTL.
/// </summary>
public sealed class OrleansDistributedCache : IDistributedCache, IBufferDistributedCache
{
    private static readonly DistributedCacheEntryOptions NoExpiration = new();
    private readonly IGrainFactory _grains;
    private readonly OrleansDistributedCacheOptions _options;
    private readonly TimeProvider _time;

    /// <summary>Creates the cache.</summary>
    public OrleansDistributedCache(IGrainFactory grainFactory, IOptions<OrleansDistributedCacheOptions>? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(grainFactory);
        _grains = grainFactory;
        _options = options?.Value ?? new OrleansDistributedCacheOptions();
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public byte[]? Get(string key) => GetAsync(key).GetAwaiter().GetResult();

    /// <inheritdoc />
    public Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        var grain = Grain(key);
        return token.IsCancellationRequested ? Task.FromCanceled<byte[]?>(token) : grain.Get().WaitAsync(token);
    }

    /// <inheritdoc />
    public bool TryGet(string key, IBufferWriter<byte> destination) => TryGetAsync(key, destination).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public async ValueTask<bool> TryGetAsync(string key, IBufferWriter<byte> destination, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
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

        // Checked before the call: once sent, the grain stores the value whatever the caller's token says.
        return token.IsCancellationRequested ? Task.FromCanceled(token) : grain.Set(value, expiration).WaitAsync(token);
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
        return token.IsCancellationRequested ? Task.FromCanceled(token) : grain.Refresh().WaitAsync(token);
    }

    /// <inheritdoc />
    public void Remove(string key) => RemoveAsync(key).GetAwaiter().GetResult();

    /// <inheritdoc />
    public Task RemoveAsync(string key, CancellationToken token = default)
    {
        var grain = Grain(key);
        return token.IsCancellationRequested ? Task.FromCanceled(token) : grain.Remove().WaitAsync(token);
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

    private ICacheGrain Grain(string key)
    {
        // The cache key is the grain key, and Orleans refuses blank ones: say so about "key", not Orleans' "primaryKey".
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        return _grains.GetGrain<ICacheGrain>(key);
    }
}
