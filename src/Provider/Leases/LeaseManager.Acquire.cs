using CacheProvider.KeyValue;

namespace CacheProvider.Leases;

/// <summary>Acquiring: one create attempt, and waiting by watching the key when it is taken.</summary>
public sealed partial class LeaseManager
{
    /// <summary>Either a lease, or the revision (and deadline) of the value that blocked us.</summary>
    private readonly record struct CreateResult(Lease? Lease, ulong BlockingRevision, DateTimeOffset? BlockingExpiresAt);

    /// <summary>One acquire call: a single nonce for all its create attempts.</summary>
    private sealed class Attempt
    {
        private readonly LeaseManager _manager;
        private readonly KvBucket _bucket;
        private readonly string _name;
        private readonly string _key;
        private readonly TimeSpan _ttl;
        private readonly string _nonce = LeaseValue.NewNonce();
        private readonly byte[] _value;

        public Attempt(LeaseManager manager, KvBucket bucket, string name, string key, TimeSpan ttl)
        {
            _manager = manager;
            _bucket = bucket;
            _name = name;
            _key = key;
            _ttl = ttl;
            _value = LeaseValue.Encode(_nonce, manager._owner);
        }

        private TimeProvider Time => _manager._time;

        /// <summary>Create-with-TTL; when the key is taken, reads who blocks us (and until when).</summary>
        public async Task<CreateResult> TryCreateAsync(CancellationToken cancellationToken)
        {
            for (var round = 0; ; round++)
            {
                var sentAt = Time.GetUtcNow();
                ulong blocking;
                try
                {
                    // CreateAsync also replaces expiry markers, release tombstones and values past their deadline.
                    var revision = await _bucket.CreateAsync(_key, _value, _ttl, cancellationToken).ConfigureAwait(false);
                    return new CreateResult(_manager.NewLease(_bucket, _name, _key, _nonce, _value, revision, _ttl, sentAt), 0, null);
                }
                catch (KvKeyExistsException ex)
                {
                    blocking = ex.Revision;
                }

                var last = await _bucket.GetLastAsync(_key, KvReadMode.Leader, cancellationToken).ConfigureAwait(false);
                if (last is { IsValue: true } && !last.IsExpiredAt(Time.GetUtcNow()))
                {
                    if (LeaseValue.HasNonce(last.Value.Span, _nonce))
                    {
                        // An earlier create of this call landed although its acknowledgement was lost.
                        return new CreateResult(_manager.NewLease(_bucket, _name, _key, _nonce, _value, last.Revision, _ttl, last.Created), 0, null);
                    }

                    return new CreateResult(null, last.Revision, last.ExpiresAt);
                }

                if (round >= 3)
                {
                    // Heavy churn on this lock: stop spinning and wait for the next change instead.
                    return new CreateResult(null, Math.Max(blocking, last?.Revision ?? 0), null);
                }
            }
        }

        /// <summary>Writes our value over the tombstone or marker at <paramref name="revision"/>; null when someone was faster.</summary>
        private async Task<Lease?> TryTakeAsync(ulong revision, CancellationToken cancellationToken)
        {
            var sentAt = Time.GetUtcNow();
            try
            {
                var taken = await _bucket.UpdateAsync(_key, _value, revision, _ttl, cancellationToken).ConfigureAwait(false);
                return _manager.NewLease(_bucket, _name, _key, _nonce, _value, taken, _ttl, sentAt);
            }
            catch (KvWrongRevisionException)
            {
                return null;
            }
        }

        /// <summary>
        /// Watches the key from the revision that blocked us, so nothing written after it can be missed however long the
        /// watch takes to start, and tries again when the holder's value goes away (release tombstone, expiry marker,
        /// delete). If no marker comes by the holder's deadline plus a grace (a bucket without markers), it tries anyway.
        /// </summary>
        public async Task<Lease> WaitAndCreateAsync(CreateResult first, CancellationToken cancellationToken)
        {
            var blockingRevision = first.BlockingRevision;
            var fallbackAt = first.BlockingExpiresAt + ExpiryFallbackGrace;
            using var watchCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            IAsyncEnumerator<KvEntry>? watch = null;
            Task<bool>? next = null;
            try
            {
                while (true)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    watch ??= _bucket.WatchAsync(_key, new KvWatchOptions { ResumeAfterRevision = blockingRevision, HeadersOnly = true }, watchCts.Token)
                        .GetAsyncEnumerator(watchCts.Token);
                    next ??= watch.MoveNextAsync().AsTask();
                    if (!await WaitForChangeOrDeadlineAsync(next, fallbackAt, cancellationToken).ConfigureAwait(false))
                    {
                        // next stays pending for the following round: an entry arriving now is not lost.
                    }
                    else if (!await next.ConfigureAwait(false))
                    {
                        next = null;
                        await watch.DisposeAsync().ConfigureAwait(false);
                        watch = null;
                    }
                    else
                    {
                        next = null;
                        var entry = watch.Current;
                        if (entry.Revision <= blockingRevision)
                        {
                            continue;
                        }

                        if (entry.IsValue && !entry.IsExpiredAt(Time.GetUtcNow()))
                        {
                            // The holder renewed, or someone else won the last round: its new deadline is the fallback.
                            blockingRevision = entry.Revision;
                            fallbackAt = entry.ExpiresAt + ExpiryFallbackGrace;
                            continue;
                        }

                        if (!entry.IsValue)
                        {
                            // A release tombstone or expiry marker at a known revision: one compare-and-set takes the lock.
                            // Losing it means a newer write exists, which this watch delivers next: keep watching.
                            blockingRevision = entry.Revision;
                            if (await TryTakeAsync(entry.Revision, cancellationToken).ConfigureAwait(false) is { } taken)
                            {
                                return taken;
                            }

                            continue;
                        }
                    }

                    var result = await TryCreateAsync(cancellationToken).ConfigureAwait(false);
                    if (result.Lease is not null)
                    {
                        return result.Lease;
                    }

                    blockingRevision = Math.Max(blockingRevision, result.BlockingRevision);
                    fallbackAt = result.BlockingExpiresAt + ExpiryFallbackGrace;
                }
            }
            finally
            {
                await watchCts.CancelAsync().ConfigureAwait(false);
                if (next is not null)
                {
                    try
                    {
                        await next.ConfigureAwait(false);
                    }
                    catch (Exception ex) when (Lease.IsTransient(ex))
                    {
                    }
                }

                if (watch is not null)
                {
                    await watch.DisposeAsync().ConfigureAwait(false);
                }
            }
        }

        /// <summary>True when the watch produced something; false when the fallback deadline came first.</summary>
        private async Task<bool> WaitForChangeOrDeadlineAsync(Task<bool> next, DateTimeOffset? fallbackAt, CancellationToken cancellationToken)
        {
            if (next.IsCompleted)
            {
                return true;
            }

            var now = Time.GetUtcNow();
            if (fallbackAt is { } at && at <= now)
            {
                return false;
            }

            using var delayCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var delay = fallbackAt is { } until ? Task.Delay(until - now, Time, delayCts.Token) : Task.Delay(Timeout.Infinite, delayCts.Token);
            var winner = await Task.WhenAny(next, delay).ConfigureAwait(false);
            await delayCts.CancelAsync().ConfigureAwait(false);
            if (winner == next)
            {
                return true;
            }

            cancellationToken.ThrowIfCancellationRequested();
            return false;
        }
    }
}
