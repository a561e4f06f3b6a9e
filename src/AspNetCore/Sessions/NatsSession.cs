using System.Buffers;
using NATS.Client.Core;
using CacheProvider.KeyValue;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CacheProvider.Sessions;

/// <summary>
/// One request's view of a session stored by <see cref="NatsSessionStore"/>. Loads the whole session with one KV
/// read (none for a session key the request just created, or while the store's near cache holds it), keeps it in
/// memory, and on commit writes it only when something changed (setting a key to the bytes it already holds is no
/// change); an unchanged session is rewritten only when less than one idle timeout of its stored TTL is left.
/// </summary>
/// <remarks>
/// <para><b>Lost updates.</b> Every write carries the revision the request read (<c>Nats-Expected-Last-Subject-Sequence</c>).
/// When another request of the same session committed in between, the write is refused and this session re-reads the
/// latest revision, re-applies only its own changes on top of it (each key it set or removed wins for that key; a
/// <see cref="Clear"/> discards everything; keys it did not touch keep the other request's values), and tries again,
/// up to <see cref="NatsSessionStoreOptions.MaxConflictRetries"/> times before the commit fails with
/// <see cref="KvWrongRevisionException"/>. So two racing requests that change different keys both keep their changes,
/// and for one key the later commit wins, which is the stock session's outcome without the silent loss of the
/// other keys.</para>
/// <para>An idle renewal that loses the race is dropped: the winner's write renewed the session too.</para>
/// </remarks>
internal sealed class NatsSession : ISession
{
    private static readonly string[] NoKeys = [];
    private readonly NatsSessionStore _store;
    private readonly string _sessionKey;
    private readonly string _kvKey;
    private readonly TimeSpan _idleTimeout;
    private readonly TimeSpan _ioTimeout;
    private readonly Func<bool> _tryEstablishSession;
    private readonly bool _isNewSessionKey;
    private readonly Dictionary<string, byte[]?> _changes = new(StringComparer.Ordinal);
    private Dictionary<string, byte[]> _values = new(StringComparer.Ordinal);
    private Guid _id;
    private bool _loaded;
    private bool _available = true;
    private bool _modified;
    private bool _cleared;
    private ulong? _revision;
    private byte[]? _stored;
    private long _deadlineMs;

    public NatsSession(NatsSessionStore store, string sessionKey, string kvKey, TimeSpan idleTimeout, TimeSpan ioTimeout, Func<bool> tryEstablishSession, bool isNewSessionKey)
    {
        _store = store;
        _sessionKey = sessionKey;
        _kvKey = kvKey;
        _idleTimeout = idleTimeout;
        _ioTimeout = ioTimeout;
        _tryEstablishSession = tryEstablishSession;
        _isNewSessionKey = isNewSessionKey;
    }

    public bool IsAvailable
    {
        get
        {
            Load();
            return _available;
        }
    }

    public string Id
    {
        get
        {
            Load();
            if (_id == Guid.Empty)
            {
                _id = Guid.NewGuid();
            }

            return _id.ToString();
        }
    }

    public IEnumerable<string> Keys
    {
        get
        {
            Load();
            return _available ? _values.Keys : NoKeys;
        }
    }

    public bool TryGetValue(string key, out byte[] value)
    {
        ArgumentNullException.ThrowIfNull(key);
        Load();
        return _values.TryGetValue(key, out value!);
    }

    public void Set(string key, byte[] value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (!IsAvailable)
        {
            return;
        }

        if (!_tryEstablishSession())
        {
            throw new InvalidOperationException("The session cannot be established after the response has started.");
        }

        var copy = (byte[])value.Clone();
        // Kept as this request's change either way, so a commit that must re-apply after a race still sets it.
        _changes[key] = copy;
        if (_values.TryGetValue(key, out var current) && current.AsSpan().SequenceEqual(value))
        {
            return; // the same bytes again: nothing to write for it
        }

        _values[key] = copy;
        _modified = true;
    }

    public void Remove(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Load();
        if (_values.Remove(key))
        {
            _changes[key] = null;
            _modified = true;
        }
    }

    public void Clear()
    {
        Load();
        if (_values.Count > 0)
        {
            _modified = true;
        }

        _values.Clear();
        _changes.Clear();
        _cleared = true;
    }

    public async Task LoadAsync(CancellationToken cancellationToken = default)
    {
        if (_loaded)
        {
            return;
        }

        if (_isNewSessionKey)
        {
            _loaded = true; // a key minted by this request: nothing to read
            return;
        }

        try
        {
            // No linked token source here: the read carries the I/O timeout itself (a deadline, no timer per request).
            await ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NatsException or TimeoutException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            _store.Logger.LogError(ex, "Could not load a session from bucket {Bucket}; the session is unavailable for this request", _store.Options.Bucket);
            _available = false;
        }

        _loaded = true;
    }

    public async Task CommitAsync(CancellationToken cancellationToken = default)
    {
        if (!_loaded)
        {
            if (_isNewSessionKey || !NeedsRenewal(_store.KnownDeadline(_kvKey)))
            {
                return; // untouched, and this node knows at least one idle timeout is left: no round trip
            }

            await LoadAsync(cancellationToken).ConfigureAwait(false);
        }

        if (!_available)
        {
            return;
        }

        if (_modified)
        {
            using var timeout = Timeout(cancellationToken);
            await WriteAsync(timeout.Token).ConfigureAwait(false);
        }
        else if (_stored is not null && NeedsRenewal(_deadlineMs))
        {
            using var timeout = Timeout(cancellationToken);
            await RenewAsync(timeout.Token).ConfigureAwait(false);
        }

        // Otherwise nothing to send: no timeout source either (this is most requests).
    }

    private void Load()
    {
        if (!_loaded)
        {
            LoadAsync().GetAwaiter().GetResult();
        }
    }

    private CancellationTokenSource Timeout(CancellationToken cancellationToken)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (_ioTimeout > TimeSpan.Zero && _ioTimeout != System.Threading.Timeout.InfiniteTimeSpan)
        {
            cts.CancelAfter(_ioTimeout);
        }

        return cts;
    }

    /// <summary>The I/O timeout as a request timeout; null (the connection's default) when the session has none.</summary>
    private TimeSpan? IoTimeout => _ioTimeout > TimeSpan.Zero && _ioTimeout != System.Threading.Timeout.InfiniteTimeSpan ? _ioTimeout : null;

    private bool NeedsRenewal(long deadlineMs) =>
        deadlineMs - _store.Time.GetUtcNow().ToUnixTimeMilliseconds() < (long)_idleTimeout.TotalMilliseconds;

    /// <summary>Reads the latest revision: the values when it is a live session, else an empty session at that revision.</summary>
    /// <remarks>
    /// A <see cref="SessionReader"/>: the reply is checked and copied in the receive buffer, without building headers or
    /// a KV entry, which is most of what a read-only request costs this store.
    /// </remarks>
    private async Task ReadAsync(CancellationToken cancellationToken, bool fromServer = false)
    {
        if (!fromServer && _store.Near is { } near && near.TryGet(_kvKey, _store.Time.GetUtcNow().ToUnixTimeMilliseconds(), out var copy))
        {
            _store.CountLocalRead();
            Apply(copy.Value, copy.Revision, copy.ServerDeadlineMs);
            return;
        }

        var pending = _store.GetBucketAsync(cancellationToken);
        var bucket = pending.IsCompletedSuccessfully ? pending.Result : await pending.AsTask().WaitAsync(IoTimeout ?? System.Threading.Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        var now = _store.Time.GetUtcNow().ToUnixTimeMilliseconds();
        var read = await bucket.ReadAsync<SessionReader, SessionRead>(_kvKey, new SessionReader(now), cancellationToken: cancellationToken).ConfigureAwait(false);
        _store.CountRead();
        _revision = read.Revision == 0 ? null : read.Revision; // 0: no message at all (404), so no revision to expect
        if (read.Value is { } value)
        {
            Apply(value, read.Revision, read.ServerDeadlineMs);
            if (_stored is not null)
            {
                _store.Near?.Set(_kvKey, value, read.Revision, _deadlineMs, now); // only what parsed as a session
            }
        }
        else
        {
            _stored = null;
            _values = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        }
    }

    /// <summary>Takes a stored session (from the server or the near cache) as this request's state.</summary>
    private void Apply(byte[] stored, ulong revision, long serverDeadlineMs)
    {
        _revision = revision;
        _stored = null;
        _values = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        if (!SessionPayload.TryRead(stored, out var id, out var values))
        {
            _store.Logger.LogWarning("Session in bucket {Bucket} has an unknown format; starting it empty", _store.Options.Bucket);
            return;
        }

        if (_id == Guid.Empty)
        {
            _id = id;
        }

        _values = values;
        _stored = stored; // never mutated: a write replaces it, so sharing the near cache's array is safe
        _deadlineMs = serverDeadlineMs > 0 ? serverDeadlineMs : long.MaxValue;
        _store.RememberDeadline(_kvKey, _deadlineMs);
    }

    private async Task WriteAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                if (_values.Count == 0)
                {
                    if (_stored is not null)
                    {
                        // Everything removed: the session ends now (watchers see Removed) instead of living on empty.
                        await _store.PurgeAsync(_kvKey, cancellationToken).ConfigureAwait(false);
                    }
                }
                else
                {
                    await PutAsync(SessionPayload.Write(_id == Guid.Empty ? _id = Guid.NewGuid() : _id, _values), cancellationToken).ConfigureAwait(false);
                    _store.CountWrite();
                }

                _modified = false;
                return;
            }
            catch (KvWrongRevisionException) when (attempt < _store.Options.MaxConflictRetries)
            {
                _store.CountConflict();
                _store.Logger.LogDebug("Session commit raced another request of the same session in {Bucket}; re-applying its changes", _store.Options.Bucket);
                // From the server, not the near cache: the copy we started from is what the server just refused.
                await ReadAsync(cancellationToken, fromServer: true).ConfigureAwait(false);
                if (_cleared)
                {
                    _values.Clear();
                }

                foreach (var (key, value) in _changes)
                {
                    if (value is null)
                    {
                        _values.Remove(key);
                    }
                    else
                    {
                        _values[key] = value;
                    }
                }
            }
        }
    }

    private async Task RenewAsync(CancellationToken cancellationToken)
    {
        try
        {
            await PutAsync(_stored!, cancellationToken).ConfigureAwait(false);
            _store.CountRenewal();
        }
        catch (KvWrongRevisionException)
        {
            // Another request of this session wrote meanwhile; that write renewed it too.
            _store.CountConflict();
        }
    }

    private async Task PutAsync(byte[] payload, CancellationToken cancellationToken)
    {
        var bucket = await _store.GetBucketAsync(cancellationToken).ConfigureAwait(false);
        var ttl = _store.StoredTtl(_idleTimeout);
        var now = _store.Time.GetUtcNow().ToUnixTimeMilliseconds();
        _revision = await bucket.PutAsync(_kvKey, new ReadOnlySequence<byte>(payload), new KvPutOptions
        {
            Ttl = ttl,
            ExpectedRevision = _revision,
        }, cancellationToken).ConfigureAwait(false);
        _stored = payload;
        _deadlineMs = now + (long)ttl.TotalMilliseconds;
        _store.RememberDeadline(_kvKey, _deadlineMs);
        _store.Near?.Set(_kvKey, payload, _revision.Value, _deadlineMs, now);
    }

    public override string ToString() => $"NatsSession({_sessionKey.Length} chars, {(_loaded ? _values.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) : "?")} keys)";
}
