using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Primitives;

namespace CacheProvider.Hybrid.Internal;

/// <summary>
/// An L1 entry HybridCache is building: the settings are kept here, and on <see cref="Dispose"/> (MemoryCache's commit)
/// the guard either copies them into a real entry of the app's cache or refuses the value (then the entry's eviction
/// callbacks run at once, so HybridCache releases the value's buffers).
/// </summary>
internal sealed class GuardedCacheEntry(string key, HybridCacheGuard guard) : ICacheEntry
{
    private static readonly PostEvictionDelegate Untrack = static (k, _, _, state) => ((Held)state!).Guard.Released((string)k, ((Held)state!).Id);
    private List<IChangeToken>? _tokens;
    private List<PostEvictionCallbackRegistration>? _callbacks;
    private bool _disposed;

    public string StringKey => key;

    public object Key => key;

    public object? Value { get; set; }

    public DateTimeOffset? AbsoluteExpiration { get; set; }

    public TimeSpan? AbsoluteExpirationRelativeToNow { get; set; }

    public TimeSpan? SlidingExpiration { get; set; }

    public IList<IChangeToken> ExpirationTokens => _tokens ??= [];

    public IList<PostEvictionCallbackRegistration> PostEvictionCallbacks => _callbacks ??= [];

    public CacheItemPriority Priority { get; set; } = CacheItemPriority.Normal;

    public long? Size { get; set; }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!guard.TryCommit(this) && _callbacks is not null)
        {
            foreach (var callback in _callbacks)
            {
                callback.EvictionCallback?.Invoke(key, Value, EvictionReason.Removed, callback.State);
            }
        }
    }

    /// <summary>Creates and commits the real entry (called by the guard under its lock).</summary>
    internal void CommitTo(IMemoryCache cache, long id)
    {
        var entry = cache.CreateEntry(key);
        entry.Value = Value;
        entry.Priority = Priority;
        if (AbsoluteExpiration is { } absolute)
        {
            entry.AbsoluteExpiration = absolute;
        }

        if (AbsoluteExpirationRelativeToNow is { } relative)
        {
            entry.AbsoluteExpirationRelativeToNow = relative;
        }

        if (SlidingExpiration is { } sliding)
        {
            entry.SlidingExpiration = sliding;
        }

        if (Size is { } size)
        {
            entry.Size = size;
        }

        if (_tokens is not null)
        {
            foreach (var token in _tokens)
            {
                entry.ExpirationTokens.Add(token);
            }
        }

        if (_callbacks is not null)
        {
            foreach (var callback in _callbacks)
            {
                entry.PostEvictionCallbacks.Add(callback);
            }
        }

        entry.PostEvictionCallbacks.Add(new PostEvictionCallbackRegistration { EvictionCallback = Untrack, State = new Held(guard, id) });
        entry.Dispose();
    }

    private sealed record Held(HybridCacheGuard Guard, long Id);
}
