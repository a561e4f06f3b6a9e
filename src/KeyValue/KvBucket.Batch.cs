using CacheProvider.KeyValue.Internal;
using NATS.Client.JetStream;

namespace CacheProvider.KeyValue;

/// <summary>Reading the current values of many keys in one round trip.</summary>
public sealed partial class KvBucket
{
    // The server refuses a multi_last batch that would return more messages than this (413 Too Many Results).
    private const int MaxBatchSubjects = 1024;

    /// <summary>
    /// The current value of every key matching <paramref name="keyFilter"/>, read with one direct batch get
    /// (<c>multi_last</c>) instead of one read per key. As with <see cref="GetAsync(string, KvReadMode, CancellationToken)"/>,
    /// keys whose latest revision is a tombstone, an expiry marker or a value past its TTL deadline are left out.
    /// Order is unspecified.
    /// </summary>
    /// <remarks>
    /// When more keys (tombstones and markers included) match than one batch may return, the live keys are listed and
    /// read in batches of literal subjects. Buckets without allow_direct, and buckets whose direct gets a mirror has
    /// answered, are read per key from the leader, as <see cref="GetAsync(string, KvReadMode, CancellationToken)"/> would.
    /// </remarks>
    public async ValueTask<IReadOnlyList<KvEntry>> GetValuesAsync(string keyFilter = ">", CancellationToken cancellationToken = default)
    {
        KvNames.ValidateKey(keyFilter, allowWildcards: true, nameof(keyFilter));
        var values = new List<KvEntry>();
        if (_directAllowed && !_foreignStreamAnswered)
        {
            try
            {
                if (await ReadBatchAsync([_readPrefix + keyFilter], values, cancellationToken).ConfigureAwait(false))
                {
                    return values;
                }
            }
            catch (NatsJSApiException ex) when (ex.Error.Code == 413)
            {
                if (await ReadBatchesOfKeysAsync(keyFilter, values, cancellationToken).ConfigureAwait(false))
                {
                    return values;
                }
            }
        }

        // A mirror answered (possibly stale) or nobody answers direct gets: what GetAsync would do, key by key.
        values.Clear();
        var reads = new List<Task<KvEntry?>>();
        await foreach (var key in KeysAsync(keyFilter, cancellationToken).ConfigureAwait(false))
        {
            reads.Add(GetAsync(key, KvReadMode.Leader, cancellationToken).AsTask());
        }

        foreach (var read in reads)
        {
            if (await read.ConfigureAwait(false) is { } entry)
            {
                values.Add(entry);
            }
        }

        return values;
    }

    /// <summary>Lists the live keys, then reads them with batches of literal subjects; false when a mirror answered.</summary>
    private async ValueTask<bool> ReadBatchesOfKeysAsync(string keyFilter, List<KvEntry> values, CancellationToken cancellationToken)
    {
        var subjects = new List<string>();
        await foreach (var key in KeysAsync(keyFilter, cancellationToken).ConfigureAwait(false))
        {
            subjects.Add(_readPrefix + key);
        }

        var batch = new List<string>(Math.Min(subjects.Count, MaxBatchSubjects));
        for (var i = 0; i < subjects.Count; i += MaxBatchSubjects)
        {
            batch.Clear();
            for (var j = i; j < subjects.Count && j < i + MaxBatchSubjects; j++)
            {
                batch.Add(subjects[j]);
            }

            if (!await ReadBatchAsync(batch, values, cancellationToken).ConfigureAwait(false))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>One multi_last batch (retried as a whole), appended to <paramref name="values"/>; false when a mirror answered.</summary>
    private async ValueTask<bool> ReadBatchAsync(List<string> subjects, List<KvEntry> values, CancellationToken cancellationToken)
    {
        var start = values.Count;
        return await _js.RetryReadAsync(
            async ct =>
            {
                // A retry starts the batch over: drop what a failed attempt already added.
                values.RemoveRange(start, values.Count - start);
                var now = TimeProvider.GetUtcNow();
                await foreach (var stored in _js.DirectGetLastBatchAsync(StreamName, subjects, ct).ConfigureAwait(false))
                {
                    if (!string.Equals(stored.Stream, StreamName, StringComparison.Ordinal))
                    {
                        _foreignStreamAnswered = true;
                        return false;
                    }

                    var key = stored.Subject.StartsWith(_readPrefix, StringComparison.Ordinal) ? stored.Subject[_readPrefix.Length..] : stored.Subject;
                    var p = EntryParser.Scan(stored.Headers);
                    var entry = p.ToEntry(Bucket, key, stored.Headers, stored.Data, stored.Data.Length, 0);
                    if (entry.IsValue && !entry.IsExpiredAt(now))
                    {
                        values.Add(entry);
                    }
                }

                return true;
            },
            cancellationToken).ConfigureAwait(false);
    }
}
