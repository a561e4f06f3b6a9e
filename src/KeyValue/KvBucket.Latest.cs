using CacheProvider.KeyValue.Internal;
using NATS.Client.JetStream;

namespace CacheProvider.KeyValue;

/// <summary>The latest revisions of several keys as one consistent read.</summary>
/// <param name="Entries">The entries, in ascending revision order.</param>
/// <param name="UpToSequence">The last stream sequence the answering server had applied when it read (0 when it did not say).</param>
public sealed record KvLatestEntries(IReadOnlyList<KvEntry> Entries, ulong UpToSequence)
{
    internal bool NotFound { get; init; }
}

/// <summary>Consistent multi-key reads (ADR-31 <c>multi_last</c> direct get).</summary>
public sealed partial class KvBucket
{
    // With the backoff doubling from 50 ms, five re-reads span about a second: far more than a replica lags.
    private const int NotFoundRereads = 5;

    /// <summary>
    /// The latest revision of every key matching any of <paramref name="keysOrFilters"/> (literal keys, or filters with
    /// <c>*</c>/<c>&gt;</c>), read with one direct batch get that the server answers under one lock: no write — an
    /// atomic batch included — is seen half applied. Unlike <see cref="GetValuesAsync"/> it never falls back to several reads.
    /// </summary>
    /// <param name="keysOrFilters">Keys or key filters (at most 1024 results in all).</param>
    /// <param name="minSequence">
    /// Read-your-writes on replicated buckets, where any replica may answer: a reply from a replica that had not yet
    /// applied this stream sequence is read again (within the read retry budget). 0 = any replica. A reply that nothing
    /// matched does not say how far its replica had applied: it is read again a few times (about a second in all), then
    /// believed. Include a key known to exist to avoid that.
    /// </param>
    /// <param name="includeRemoved">Also return tombstones, expiry markers and values past their TTL deadline.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="KvTooManyResultsException">More than 1024 keys (tombstones and markers included) match.</exception>
    /// <exception cref="KvTimeoutException">No (fresh enough) answer within the read retry budget.</exception>
    public async ValueTask<KvLatestEntries> GetLatestAsync(IReadOnlyList<string> keysOrFilters, ulong minSequence = 0, bool includeRemoved = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keysOrFilters);
        if (keysOrFilters.Count == 0)
        {
            throw new ArgumentException("At least one key or filter is needed", nameof(keysOrFilters));
        }

        var subjects = new List<string>(keysOrFilters.Count);
        foreach (var key in keysOrFilters)
        {
            KvNames.ValidateKey(key, allowWildcards: true, nameof(keysOrFilters));
            subjects.Add(_readPrefix + key);
        }

        if (!_directAllowed)
        {
            throw new NotSupportedException($"Bucket '{Bucket}' does not allow direct gets (allow_direct), which consistent multi-key reads need");
        }

        var budget = _js.Options.ReadRetryBudget;
        var start = TimeProvider.System.GetTimestamp();
        var backoff = JetStreamRetry.FirstBackoff;
        var notFound = 0;
        while (true)
        {
            Exception? failure = null;
            try
            {
                var result = await ReadLatestOnceAsync(subjects, includeRemoved, cancellationToken).ConfigureAwait(false);
                if (minSequence == 0 || result.UpToSequence >= minSequence || (result.NotFound && ++notFound > NotFoundRereads))
                {
                    return result;
                }
            }
            catch (NatsJSApiException ex) when (ex.Error.Code == 413)
            {
                throw new KvTooManyResultsException(Bucket, string.Join(", ", keysOrFilters), MaxBatchSubjects);
            }
            catch (Exception ex) when (JetStreamRetry.IsNotDelivered(ex) || JetStreamRetry.IsNoReply(ex))
            {
                failure = ex;
            }

            var remaining = budget - TimeProvider.System.GetElapsedTime(start);
            if (remaining <= TimeSpan.Zero)
            {
                if (failure is not null)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
                }

                throw new KvTimeoutException($"{_directSubject} (no replica had applied sequence {minSequence})", budget);
            }

            // A lagging replica catches up within milliseconds: start the backoff small.
            await Task.Delay(backoff < remaining ? backoff : remaining, cancellationToken).ConfigureAwait(false);
            backoff = JetStreamRetry.Next(backoff);
        }
    }

    private async ValueTask<KvLatestEntries> ReadLatestOnceAsync(List<string> subjects, bool includeRemoved, CancellationToken cancellationToken)
    {
        var entries = new List<KvEntry>();
        var end = new BatchEnd();
        var now = TimeProvider.GetUtcNow();
        await foreach (var stored in _js.DirectGetLastBatchAsync(StreamName, subjects, cancellationToken, end).ConfigureAwait(false))
        {
            var key = stored.Subject.StartsWith(_readPrefix, StringComparison.Ordinal) ? stored.Subject[_readPrefix.Length..] : stored.Subject;
            var p = EntryParser.Scan(stored.Headers);
            var entry = p.ToEntry(Bucket, key, stored.Headers, stored.Data, stored.Data.Length, 0);
            if (includeRemoved || (entry.IsValue && !entry.IsExpiredAt(now)))
            {
                entries.Add(entry);
            }
        }

        return new KvLatestEntries(entries, end.UpToSequence) { NotFound = end.NotFound };
    }
}
