namespace CacheProvider.Caching;

/// <summary>
/// A cache that reports its keys going away (expired by the server's marker, removed, purged), with the original key:
/// <see cref="NatsDistributedCache"/> and the Orleans cache (<c>OrleansDistributedCache</c>) both are one. Lets code
/// that reacts to ended entries — e.g. "session ended" notifications for sessions kept in the cache — work with
/// either cache.
/// </summary>
public interface ICacheKeyEventSource
{
    /// <summary>
    /// Keys of this cache that go away from now on, as they happen. Each call opens its own watch; it runs until
    /// <paramref name="cancellationToken"/> is cancelled, and throws when the watch fails (watch again: events in
    /// between may be missed).
    /// </summary>
    IAsyncEnumerable<CacheKeyEvent> WatchKeyEventsAsync(CancellationToken cancellationToken = default);
}
