using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Session;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Logging;

namespace CacheProvider.Sessions;

/// <summary>
/// ASP.NET Core's stock session (<see cref="DistributedSession"/> over the app's <see cref="IDistributedCache"/>), with
/// one change: a session that <c>Clear()</c> left empty (a logout) is removed from the cache when the request commits,
/// instead of being stored empty until its idle timeout. The session ends at once, and the cache's key events report it
/// as removed (<see cref="DistributedSessionEvents"/>: <see cref="SessionEndReason.Removed"/>) — as
/// <see cref="NatsSessionStore"/> does. Everything else is the stock behaviour. Register with
/// <c>services.AddRemoveOnClearSessionStore()</c> next to <c>AddSession()</c>.
/// </summary>
public sealed class RemoveOnClearSessionStore : ISessionStore
{
    private readonly IDistributedCache _cache;
    private readonly DistributedSessionStore _stock;

    /// <summary>Creates the store on <paramref name="cache"/>.</summary>
    public RemoveOnClearSessionStore(IDistributedCache cache, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _cache = cache;
        _stock = new DistributedSessionStore(cache, loggerFactory);
    }

    /// <inheritdoc />
    public ISession Create(string sessionKey, TimeSpan idleTimeout, TimeSpan ioTimeout, Func<bool> tryEstablishSession, bool isNewSessionKey) =>
        new Session(_stock.Create(sessionKey, idleTimeout, ioTimeout, tryEstablishSession, isNewSessionKey), _cache, sessionKey, ioTimeout, isNewSessionKey);

    private sealed class Session(ISession stock, IDistributedCache cache, string sessionKey, TimeSpan ioTimeout, bool isNewSessionKey) : ISession
    {
        private bool _cleared;

        public bool IsAvailable => stock.IsAvailable;

        public string Id => stock.Id;

        public IEnumerable<string> Keys => stock.Keys;

        public void Clear()
        {
            stock.Clear();
            _cleared = true;
        }

        public async Task CommitAsync(CancellationToken cancellationToken = default)
        {
            if (!_cleared || stock.Keys.Any())
            {
                await stock.CommitAsync(cancellationToken).ConfigureAwait(false);
                return;
            }

            _cleared = false;
            if (isNewSessionKey)
            {
                return; // nothing was ever stored under a key made for this request
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (ioTimeout != Timeout.InfiniteTimeSpan)
            {
                timeout.CancelAfter(ioTimeout);
            }

            await cache.RemoveAsync(sessionKey, timeout.Token).ConfigureAwait(false);
        }

        public Task LoadAsync(CancellationToken cancellationToken = default) => stock.LoadAsync(cancellationToken);

        public void Remove(string key) => stock.Remove(key);

        public void Set(string key, byte[] value) => stock.Set(key, value);

        public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? value) => stock.TryGetValue(key, out value);
    }
}
