using System.Buffers;
using System.Runtime.CompilerServices;
using CacheProvider.Caching;
using Microsoft.Extensions.Caching.Distributed;

namespace CacheProvider.Hybrid.Internal;

/// <summary>
/// HybridCache's view of the NATS cache. Writes and removals go straight through (on the caller's flow, so
/// <see cref="NatsDistributedCache.SuppressWriteOf"/> still applies). A read is tracked by the guard: it notes the
/// sequence when it starts, and when a change of the key was applied while it was in flight it reads again, so the
/// value HybridCache gets (and shares with every caller that joined the fetch) is at least as new as every change
/// applied before the read's last attempt started.
/// </summary>
internal sealed class GuardedDistributedCache(NatsDistributedCache inner, HybridCacheGuard guard) : IBufferDistributedCache
{
    // A key changed by others faster than it can be read: after this many attempts the value is passed on, and the
    // guard refuses to keep it in L1.
    private const int MaxAttempts = 4;

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
        for (var attempt = 1; ; attempt++)
        {
            var value = await inner.GetAsync(read.Key, token).ConfigureAwait(false);
            if (guard.AfterL2ReadForTests is { } pause)
            {
                await pause(read.Key).ConfigureAwait(false);
            }

            if (attempt == MaxAttempts || !guard.ChangedSince(read.Key, read.Since))
            {
                read.Hit = value is not null;
                if (read.Hit)
                {
                    guard.HandOut(read);
                }

                return value;
            }

            read.Since = guard.Sequence;
            guard.CountReread();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> TryGetTrackedAsync(HybridCacheGuard.L2Read read, IBufferWriter<byte> destination, CancellationToken token)
    {
        // The first attempt goes to a scratch buffer: a value that must be read again cannot be taken back from the caller's writer.
        using var scratch = new PooledBufferWriter();
        for (var attempt = 1; ; attempt++)
        {
            scratch.Clear();
            var hit = await inner.TryGetAsync(read.Key, scratch, token).ConfigureAwait(false);
            if (guard.AfterL2ReadForTests is { } pause)
            {
                await pause(read.Key).ConfigureAwait(false);
            }

            if (attempt == MaxAttempts || !guard.ChangedSince(read.Key, read.Since))
            {
                read.Hit = hit;
                if (hit)
                {
                    destination.Write(scratch.WrittenSpan);
                    guard.HandOut(read);
                }

                return hit;
            }

            read.Since = guard.Sequence;
            guard.CountReread();
        }
    }
}
