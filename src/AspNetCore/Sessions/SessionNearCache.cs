using System.Runtime.CompilerServices;
using System.Threading.Channels;
using CacheProvider.Caching;
using CacheProvider.KeyValue;
using CacheProvider.Shared;
using NATS.Client.Core;
using Microsoft.Extensions.Logging;

namespace CacheProvider.Sessions;

/// <summary>
/// This node's copy of the sessions it recently read or wrote (the cache's <see cref="NearCache"/>), so a request
/// whose session nobody changed reads it without a round trip. One bucket watch (updates only, headers only) drops a
/// session as soon as any node writes, removes or the server expires it; the copy is served only while that watch is
/// live, and any watch gap, error or disconnect empties it. The same watch feeds
/// <see cref="NatsSessionStore.WatchEndedSessionsAsync"/>: a second consumer would make the server deliver, and this
/// node parse, every session write twice.
/// </summary>
/// <remarks>
/// What this trades: a read on this node can miss a write another node made less than one watch delivery ago (the
/// same bound as the cache's near cache). Writes are not affected: every write still carries the revision it was
/// based on, so a write based on a stale copy is refused by the server and re-applied on a fresh read.
/// </remarks>
internal sealed class SessionNearCache : IDisposable
{
    private const int EndedBacklog = 10_000;
    private readonly NearCache _near;
    private readonly NatsSessionStore _store;
    private readonly INatsConnection _connection;
    private readonly CancellationTokenSource _disposed = new();
    private readonly object _gate = new();
    private readonly List<Channel<SessionEnded>> _endedSubscribers = []; // guarded by _gate
    private Task? _watchLoop;

    public SessionNearCache(NatsSessionStore store, INatsConnection connection, int maxEntries, int maxValueBytes)
    {
        _store = store;
        _connection = connection;
        _near = new NearCache(maxEntries, maxValueBytes);
        _connection.ConnectionDisconnected += OnDisconnected;
    }

    /// <summary>Whether the watch is live and copies are served.</summary>
    public bool Active => _near.Enabled;

    /// <summary>Readers of <see cref="WatchEndedAsync"/> right now.</summary>
    public int EndedReaders
    {
        get
        {
            lock (_gate)
            {
                return _endedSubscribers.Count;
            }
        }
    }

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

    /// <summary>
    /// Ended sessions from this cache's watch (started here if no request has yet). A failure of the watch ends the
    /// enumeration with that error, as a watch of its own would, since the next watch may miss events in between.
    /// </summary>
    public async IAsyncEnumerable<SessionEnded> WatchEndedAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<SessionEnded>(new BoundedChannelOptions(EndedBacklog) { SingleReader = true, SingleWriter = true });
        lock (_gate)
        {
            _endedSubscribers.Add(channel);
        }

        try
        {
            // After registering: a dispose either completed this channel already or is seen here.
            ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
            EnsureWatchStarted();
            await foreach (var ended in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return ended;
            }
        }
        finally
        {
            lock (_gate)
            {
                _endedSubscribers.Remove(channel);
            }
        }
    }

    public void Dispose()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        _disposed.Cancel();
        _connection.ConnectionDisconnected -= OnDisconnected;
        _near.Disable();
        CompleteSubscribers(null);
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

    private Task WatchLoopAsync()
    {
        var filter = _store.Options.KeyPrefix + ".*";
        return WatchRetryLoop.RunAsync(
            async (live, token) =>
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
                live();
                await foreach (var entry in watcher.ReadAllAsync(token).ConfigureAwait(false))
                {
                    // Our own write arrives here too; at the revision we stored it drops nothing.
                    _near.Invalidate(entry.Key, entry.Revision);
                    if (_store.NoteEnded(entry) is { } ended)
                    {
                        Publish(ended);
                    }
                }

                if (!token.IsCancellationRequested)
                {
                    // The next watch starts from "now": whatever happened in between is unknown to copies and readers.
                    _near.Disable();
                    CompleteSubscribers(new NatsException($"The session watch of bucket '{_store.Options.Bucket}' ended; watch again."));
                }
            },
            static ex => ex is NatsException or OperationCanceledException,
            (ex, _) =>
            {
                _near.Disable();
                CompleteSubscribers(ex);
                _store.Logger.LogWarning(ex, "Session near-cache watch of {Bucket} failed; every request reads the server until it is back", _store.Options.Bucket);
            },
            TimeProvider.System,
            _disposed.Token);
    }

    private void Publish(SessionEnded ended)
    {
        lock (_gate)
        {
            for (var i = _endedSubscribers.Count - 1; i >= 0; i--)
            {
                if (!_endedSubscribers[i].Writer.TryWrite(ended))
                {
                    // Never wait here: that would stall the invalidations every request depends on.
                    _endedSubscribers[i].Writer.TryComplete(new NatsException($"The ended-session reader of bucket '{_store.Options.Bucket}' fell {EndedBacklog} events behind; watch again."));
                    _endedSubscribers.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>Ends every current reader: with <paramref name="error"/>, or normally on dispose.</summary>
    private void CompleteSubscribers(Exception? error)
    {
        lock (_gate)
        {
            foreach (var subscriber in _endedSubscribers)
            {
                subscriber.Writer.TryComplete(error);
            }

            _endedSubscribers.Clear();
        }
    }

    // While disconnected nobody tells us about changes; the watch's resync after the reconnect enables it again.
    private ValueTask OnDisconnected(object? sender, NatsEventArgs e)
    {
        _near.Disable();
        return default;
    }
}
