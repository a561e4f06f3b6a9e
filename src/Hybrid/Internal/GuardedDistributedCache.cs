using System.Buffers;
using System.Runtime.CompilerServices;
using CacheProvider.Caching;
using Microsoft.Extensions.Caching.Distributed;
using NATS.Client.Core;

namespace CacheProvider.Hybrid.Internal;

/// <summary>
/// HybridCache's view of the NATS cache. Writes and removals go straight through (on the caller's flow, so
/// <see cref="NatsDistributedCache.SuppressWriteOf"/> still applies). A read is tracked by the guard: it knows the KV
/// revision it read, and when a change of the key with a later revision was applied by the time it is handed out, it
/// reads again, so the value HybridCache gets (and shares with every caller that joined the fetch) is at least as new
/// as every change applied before it was handed out.
/// </summary>
internal sealed class GuardedDistributedCache(NatsDistributedCache inner, HybridCacheGuard guard) : IBufferDistributedCache
{
    // Each attempt reads the newest revision the server has, so a second one almost always settles it; should a key
    // change faster than it can be read, the read reports a miss (HybridCache then asks its factory, the source of
    // truth) rather than a value older than a change already applied.
    private const int MaxAttempts = 8;

    public byte[]? Get(string key) => GetAsync(key).GetAwaiter().GetResult();

    public Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        // Not async: the read's tracking must stay on the caller's flow (HybridCache fills L1 on it later).
        var read = guard.BeginRead(key);
        return GetTrackedAsync(read, token);
    }

    public bool TryGet(string key, IBufferWriter<byte> destination) => TryGetAsync(key, destination).AsTask().GetAwaiter().GetResult();

    public ValueTask<bool> TryGetAsync(string key, IBufferWriter<byte> destination, CancellationToken token = default)
    {
        var read = guard.BeginRead(key);
        return TryGetTrackedAsync(read, destination, token);
    }

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => inner.Set(key, value, options);

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
        inner.SetAsync(key, value, options, token);

    public void Set(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options) => inner.Set(key, value, options);

    public ValueTask SetAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
        inner.SetAsync(key, value, options, token);

    public void Refresh(string key) => inner.Refresh(key);

    public Task RefreshAsync(string key, CancellationToken token = default) => inner.RefreshAsync(key, token);

    public void Remove(string key) => inner.Remove(key);

    public Task RemoveAsync(string key, CancellationToken token = default) => inner.RemoveAsync(key, token);

    private async Task<byte[]?> GetTrackedAsync(HybridCacheGuard.L2Read read, CancellationToken token)
    {
        using var buffer = new NatsBufferWriter<byte>();
        return await ReadTrackedAsync(read, buffer, token).ConfigureAwait(false) ? buffer.WrittenSpan.ToArray() : null;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> TryGetTrackedAsync(HybridCacheGuard.L2Read read, IBufferWriter<byte> destination, CancellationToken token)
    {
        // Read into a scratch buffer: a value that must be read again cannot be taken back from the caller's writer.
        using var scratch = new NatsBufferWriter<byte>();
        if (!await ReadTrackedAsync(read, scratch, token).ConfigureAwait(false))
        {
            return false;
        }

        destination.Write(scratch.WrittenSpan);
        return true;
    }

    /// <summary>Reads until the value is not older than any change of the key applied meanwhile; a miss is final.</summary>
    private async ValueTask<bool> ReadTrackedAsync(HybridCacheGuard.L2Read read, NatsBufferWriter<byte> scratch, CancellationToken token)
    {
        for (var attempt = 1; ; attempt++)
        {
            scratch.Clear();
            var revision = await inner.TryGetRevisionAsync(read.Key, scratch, token).ConfigureAwait(false);
            if (guard.AfterL2ReadForTests is { } pause)
            {
                await pause(read.Key).ConfigureAwait(false);
            }

            if (revision == 0)
            {
                // A miss hands out nothing: HybridCache goes to its factory, the source of truth.
                return false;
            }

            // Handed out before the check: a change applied meanwhile either finds this read registered (and waits for
            // HybridCache to let go of it) or is seen by the check (and the value is read again).
            read.Revision = revision;
            guard.HandOut(read);
            if (!guard.IsOutdated(read))
            {
                return true;
            }

            guard.Withdraw(read);
            if (attempt == MaxAttempts)
            {
                return false; // withdrawn: no revision, no hit
            }

            guard.CountReread();
        }
    }
}
