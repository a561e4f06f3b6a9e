using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using CacheProvider.KeyValue;
using NATS.Client.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Session;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CacheProvider.Sessions;

/// <summary>
/// ASP.NET Core <see cref="ISessionStore"/> on a NATS KV bucket: one KV key per session holding all its values, the
/// idle timeout as the server's per-message TTL. A request reads its session at most once (and not at all for a new
/// session, or one this node's watched near cache holds: <see cref="NatsSessionStoreOptions.NearCache"/>), writes only when something changed, and renews the idle timeout without a write on most requests (the
/// cache's renewal rule, see <see cref="NatsSessionStoreOptions.RenewalFraction"/>). Concurrent commits of the same
/// session are detected with the KV revision; see <see cref="NatsSession"/> for the merge policy.
/// <see cref="WatchEndedSessionsAsync"/> reports sessions that timed out or were removed. Thread-safe.
/// </summary>
public sealed class NatsSessionStore : ISessionStore, IDisposable
{
    private const int RecentCapacity = 100_000;
    private readonly KvBucketHandle _bucket;
    private readonly ConcurrentDictionary<string, long> _deadlines = new(StringComparer.Ordinal);
    private int _deadlineCount;
    private long _reads;
    private long _writes;
    private long _renewals;
    private long _removals;
    private long _conflicts;
    private long _localReads;

    /// <summary>Creates a store on <paramref name="connection"/> (which it does not own).</summary>
    public NatsSessionStore(INatsConnection connection, NatsSessionStoreOptions options, ILogger<NatsSessionStore>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        Time = timeProvider ?? TimeProvider.System;
        Logger = (ILogger?)logger ?? NullLogger.Instance;
        _bucket = new KvBucketHandle(new KvContext(connection, new KvContextOptions { TimeProvider = Time }), new KvBucketConfig
        {
            Bucket = options.Bucket,
            History = 1,
            LimitMarkerTtl = options.LimitMarkerTtl,
            Storage = options.Storage,
            Replicas = options.Replicas,
            Description = "ASP.NET Core sessions (CacheProvider)",
        }, (bucket, _) =>
        {
            // Created by an operator or shared with other patterns: the idle timeout is a per-key TTL, which needs history 1.
            if (bucket.History != 1 || !bucket.AllowsTtl)
            {
                throw new InvalidOperationException(
                    $"Bucket '{options.Bucket}' exists with history {bucket.History} and per-key TTL {(bucket.AllowsTtl ? "on" : "off")}; sessions need history 1 and per-key TTL");
            }
        });
        Near = options.NearCache ? new SessionNearCache(this, connection, options.NearCacheMaxEntries, options.NearCacheMaxSessionBytes) : null;
    }

    /// <summary>What this store has sent to the server so far.</summary>
    public NatsSessionStoreStatistics Statistics => new(
        Interlocked.Read(ref _reads), Interlocked.Read(ref _writes), Interlocked.Read(ref _renewals), Interlocked.Read(ref _removals), Interlocked.Read(ref _conflicts),
        Interlocked.Read(ref _localReads));

    /// <summary>Whether the near cache is serving (its bucket watch is live); false when <see cref="NatsSessionStoreOptions.NearCache"/> is off.</summary>
    public bool NearCacheActive => Near?.Active ?? false;

    internal NatsSessionStoreOptions Options { get; }

    internal TimeProvider Time { get; }

    internal ILogger Logger { get; }

    /// <summary>This node's watched copy of recent sessions; null when <see cref="NatsSessionStoreOptions.NearCache"/> is off.</summary>
    internal SessionNearCache? Near { get; }

    /// <inheritdoc />
    public ISession Create(string sessionKey, TimeSpan idleTimeout, TimeSpan ioTimeout, Func<bool> tryEstablishSession, bool isNewSessionKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(sessionKey);
        ArgumentNullException.ThrowIfNull(tryEstablishSession);
        if (idleTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(idleTimeout), idleTimeout, "The idle timeout must be positive.");
        }

        return new NatsSession(this, sessionKey, KvKey(sessionKey), idleTimeout, ioTimeout, tryEstablishSession, isNewSessionKey);
    }

    /// <summary>Ends a session now (e.g. on logout from another node); watchers see <see cref="SessionEndReason.Removed"/>.</summary>
    public async Task RemoveAsync(string sessionKey, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(sessionKey);
        await PurgeAsync(KvKey(sessionKey), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sessions of this store that end, as they happen: idle timeout (the server's expiry marker) or removal, from any
    /// node. Runs until <paramref name="cancellationToken"/> is cancelled, or throws when the bucket watch fails (watch
    /// again: changes in between may be missed); meant for a hosted service (sign the user out elsewhere, release what
    /// the session held, push to a UI). With the near cache on, every call shares its bucket watch (the server sends
    /// each change once per node); otherwise each call opens a watch of its own. Session keys that are not valid KV
    /// tokens are stored hashed and reported by that hash.
    /// </summary>
    public async IAsyncEnumerable<SessionEnded> WatchEndedSessionsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (Near is { } near)
        {
            await foreach (var shared in near.WatchEndedAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return shared;
            }

            yield break;
        }

        var bucket = await GetBucketAsync(cancellationToken).ConfigureAwait(false);
        var watcher = await bucket.StartWatchAsync([Options.KeyPrefix + ".*"], new KvWatchOptions { UpdatesOnly = true, HeadersOnly = true }, cancellationToken).ConfigureAwait(false);
        await using var watch = watcher.ConfigureAwait(false);
        await foreach (var entry in watcher.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (NoteEnded(entry) is { } ended)
            {
                yield return ended;
            }
        }
    }

    /// <summary>A watched change: the session it ended (and this node forgets its deadline), or null for a write.</summary>
    internal SessionEnded? NoteEnded(KvEntry entry)
    {
        var prefix = Options.KeyPrefix;
        if (entry.IsValue || entry.Key.Length <= prefix.Length + 1 || !entry.Key.StartsWith(prefix, StringComparison.Ordinal) || entry.Key[prefix.Length] != '.')
        {
            return null;
        }

        ForgetDeadline(entry.Key);
        var reason = entry.MarkerReason == KvMarkerReason.Expired ? SessionEndReason.IdleTimeout : SessionEndReason.Removed;
        return new SessionEnded(entry.Key[(prefix.Length + 1)..], reason, entry.Revision, entry.Created);
    }

    internal ValueTask<KvBucket> GetBucketAsync(CancellationToken cancellationToken) => _bucket.GetAsync(cancellationToken);

    internal async Task PurgeAsync(string kvKey, CancellationToken cancellationToken)
    {
        var bucket = await GetBucketAsync(cancellationToken).ConfigureAwait(false);
        ForgetDeadline(kvKey);
        Near?.Remove(kvKey);
        await bucket.PurgeAsync(kvKey, Options.RemoveTombstoneTtl, cancellationToken: cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _removals);
    }

    /// <summary>The server deadline this node last saw for a session (0 when unknown).</summary>
    internal long KnownDeadline(string kvKey) => _deadlines.TryGetValue(kvKey, out var deadline) ? deadline : 0;

    internal void RememberDeadline(string kvKey, long deadlineMs)
    {
        if (_deadlines.TryGetValue(kvKey, out var known))
        {
            if (known != deadlineMs)
            {
                _deadlines[kvKey] = deadlineMs;
            }

            return;
        }

        // Counted by hand: ConcurrentDictionary.Count takes every lock, which on each read serialized all requests.
        if (Interlocked.Increment(ref _deadlineCount) > RecentCapacity)
        {
            _deadlines.Clear();
            Volatile.Write(ref _deadlineCount, 1);
        }

        _deadlines[kvKey] = deadlineMs;
    }

    private void ForgetDeadline(string kvKey)
    {
        if (_deadlines.TryRemove(kvKey, out _))
        {
            Interlocked.Decrement(ref _deadlineCount);
        }
    }

    internal void CountRead() => Interlocked.Increment(ref _reads);

    internal void CountLocalRead() => Interlocked.Increment(ref _localReads);

    internal void CountWrite() => Interlocked.Increment(ref _writes);

    internal void CountRenewal() => Interlocked.Increment(ref _renewals);

    internal void CountConflict() => Interlocked.Increment(ref _conflicts);

    /// <summary>Stops the near cache's watch (the connection is not the store's to close).</summary>
    public void Dispose() => Near?.Dispose();

    /// <summary>The stored TTL for a session with <paramref name="idleTimeout"/>: window × (1 + f), whole seconds, ≥ 1 s.</summary>
    internal TimeSpan StoredTtl(TimeSpan idleTimeout) =>
        TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(idleTimeout.TotalSeconds * (1 + Options.RenewalFraction))));

    private string KvKey(string sessionKey)
    {
        foreach (var c in sessionKey)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '='))
            {
                // Not a single KV token: store it under its hash (ASP.NET's own keys are GUIDs and never get here).
                return Options.KeyPrefix + "." + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sessionKey)));
            }
        }

        return Options.KeyPrefix + "." + sessionKey;
    }
}
