using CacheProvider.Caching.Internal;
using CacheProvider.Nats;
using CacheProvider.Nats.KeyValue;
using Microsoft.Extensions.Logging;

namespace CacheProvider.Sessions;

/// <summary>
/// This node's copy of the sessions it recently read or wrote (the cache's <see cref="NearCache"/>), so a request
/// whose session nobody changed reads it without a round trip. One bucket watch (updates only, headers only) drops a
/// session as soon as any node writes, removes or the server expires it; the copy is served only while that watch is
/// live, and any watch gap, error or disconnect empties it.
/// </summary>
/// <remarks>
/// What this trades: a read on this node can miss a write another node made less than one watch delivery ago (the
/// same bound as the cache's near cache). Writes are not affected: every write still carries the revision it was
/// based on, so a write based on a stale copy is refused by the server and re-applied on a fresh read.
/// </remarks>
internal sealed class SessionNearCache : IDisposable
{
    private readonly NearCache _near;
    private readonly NatsSessionStore _store;
    private readonly NatsConnection _connection;
    private readonly CancellationTokenSource _disposed = new();
    private readonly object _gate = new();
    private Task? _watchLoop;

    public SessionNearCache(NatsSessionStore store, NatsConnection connection, int maxEntries, int maxValueBytes)
    {
        _store = store;
        _connection = connection;
        _near = new NearCache(maxEntries, maxValueBytes);
        _connection.Disconnected += OnDisconnected;
    }

    /// <summary>Whether the watch is live and copies are served.</summary>
    public bool Active => _near.Enabled;

    /// <summary>The copy of a session, when one is live; starts the watch on first use.</summary>
    public bool TryGet(string kvKey, long nowMs, out NearCache.Entry entry)
    {
        EnsureWatchStarted();
        return _near.TryGet(kvKey, nowMs, out entry);
    }

    /// <summary>Keeps what this node just read or wrote at <paramref name="revision"/>.</summary>
    public void Set(string kvKey, byte[] payload, ulong revision, long deadlineMs, long nowMs) =>
        _near.Set(kvKey, payload, revision, deadlineMs == long.MaxValue ? 0 : deadlineMs, deadlineMs == long.MaxValue ? 0 : deadlineMs, 0, nowMs);

    public void Remove(string kvKey) => _near.Remove(kvKey);

    public void Dispose()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        _disposed.Cancel();
        _connection.Disconnected -= OnDisconnected;
        _near.Disable();
    }

    private void EnsureWatchStarted()
    {
        if (_watchLoop is not null || _disposed.IsCancellationRequested)
        {
            return;
        }

        lock (_gate)
        {
            _watchLoop ??= Task.Run(WatchLoopAsync);
        }
    }

    private async Task WatchLoopAsync()
    {
        var token = _disposed.Token;
        var delay = TimeSpan.FromMilliseconds(100);
        var filter = _store.Options.KeyPrefix + ".*";
        while (!token.IsCancellationRequested)
        {
            try
            {
                var bucket = await _store.GetBucketAsync(token).ConfigureAwait(false);
                var watcher = await bucket.StartWatchAsync([filter], new KvWatchOptions
                {
                    UpdatesOnly = true,
                    HeadersOnly = true,
                    OnResync = reason =>
                    {
                        // Copies taken meanwhile may predate the changes the resumed watch is about to replay.
                        _near.Disable();
                        _near.Enable();
                        _store.Logger.LogInformation("Session near cache of {Bucket} flushed: watch resynced ({Reason})", _store.Options.Bucket, reason);
                    },
                }, token).ConfigureAwait(false);
                await using var _ = watcher.ConfigureAwait(false);
                _near.Enable();
                delay = TimeSpan.FromMilliseconds(100);
                await foreach (var entry in watcher.ReadAllAsync(token).ConfigureAwait(false))
                {
                    _near.Invalidate(entry.Key, entry.Revision);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NatsException or OperationCanceledException)
            {
                _near.Disable();
                _store.Logger.LogWarning(ex, "Session near-cache watch of {Bucket} failed; every request reads the server until it is back", _store.Options.Bucket);
                try
                {
                    await Task.Delay(delay, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5000));
            }
        }
    }

    // While disconnected nobody tells us about changes; the watch's resync after the reconnect enables it again.
    private void OnDisconnected(object? sender, NatsConnectionEventArgs e) => _near.Disable();
}
