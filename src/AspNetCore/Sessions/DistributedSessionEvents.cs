using System.Runtime.CompilerServices;
using CacheProvider.Caching;

namespace CacheProvider.Sessions;

/// <summary>
/// "Session ended" notifications for sessions that ASP.NET Core's stock session middleware (<c>AddSession()</c>, whose
/// <c>DistributedSession</c> stores each session under its session key) keeps in one of our caches — the direct
/// <see cref="NatsDistributedCache"/> or the Orleans cache grains (<c>OrleansDistributedCache</c>): both are an
/// <see cref="ICacheKeyEventSource"/>. The cache's key events become <see cref="SessionEnded"/>: the server's expiry
/// marker is <see cref="SessionEndReason.IdleTimeout"/> (the session's sliding expiration ran out), a removal or purge is
/// <see cref="SessionEndReason.Removed"/>. Keys that are not session keys (other entries of the same cache) are skipped.
/// </summary>
/// <remarks>
/// For <see cref="NatsSessionStore"/> use its own <see cref="NatsSessionStore.WatchEndedSessionsAsync"/>. The stock
/// middleware's <c>Session.Clear()</c> stores an empty session rather than removing it; register
/// <see cref="RemoveOnClearSessionStore"/> for logouts to end the session (reason Removed) at once.
/// </remarks>
public static class DistributedSessionEvents
{
    /// <summary>
    /// Sessions stored in <paramref name="cache"/> that end, as they happen. Session keys are recognised by
    /// <see cref="IsSessionKey"/>. Runs until cancelled; throws when the cache's watch fails (watch again: ends in
    /// between may be missed).
    /// </summary>
    public static IAsyncEnumerable<SessionEnded> WatchEndedSessionsAsync(this ICacheKeyEventSource cache, CancellationToken cancellationToken = default) =>
        WatchEndedSessionsAsync(cache, IsSessionKey, cancellationToken);

    /// <summary>Like <see cref="WatchEndedSessionsAsync(ICacheKeyEventSource, CancellationToken)"/>, with the app's own test for which cache keys are sessions.</summary>
    public static async IAsyncEnumerable<SessionEnded> WatchEndedSessionsAsync(this ICacheKeyEventSource cache, Func<string, bool> isSessionKey, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(isSessionKey);
        await foreach (var e in cache.WatchKeyEventsAsync(cancellationToken).ConfigureAwait(false))
        {
            if (e.Key is { } key && isSessionKey(key))
            {
                var reason = e.Reason == CacheKeyEventReason.Expired ? SessionEndReason.IdleTimeout : SessionEndReason.Removed;
                yield return new SessionEnded(key, reason, e.Revision, e.Timestamp);
            }
        }
    }

    /// <summary>
    /// Whether <paramref name="key"/> has the form of an ASP.NET Core session key: the session middleware makes every key
    /// from 16 random bytes written as a GUID ("D" format, 36 characters).
    /// </summary>
    public static bool IsSessionKey(string key) => key is { Length: 36 } && Guid.TryParseExact(key, "D", out _);
}
