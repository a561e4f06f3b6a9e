using System.Runtime.CompilerServices;
using CacheProvider.KeyValue.Internal;

namespace CacheProvider.KeyValue;

/// <summary>Watches, key listing, history, snapshots and tombstone clean-up: everything built on an ordered consumer.</summary>
public sealed partial class KvBucket
{
    /// <summary>
    /// Watches keys matching <paramref name="keyFilter"/> (<c>&gt;</c> = all; <c>*</c> and <c>&gt;</c> wildcards allowed).
    /// Every change arrives in order: puts, deletes, purges, and the server's expiry markers with their reason.
    /// Survives reconnects and server restarts without skipping a revision.
    /// </summary>
    public IAsyncEnumerable<KvEntry> WatchAsync(string keyFilter = ">", KvWatchOptions? options = null, CancellationToken cancellationToken = default) =>
        WatchAsync([keyFilter], options, cancellationToken);

    /// <summary>Watches several key filters at once.</summary>
    public async IAsyncEnumerable<KvEntry> WatchAsync(IReadOnlyList<string> keyFilters, KvWatchOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var watcher = await StartWatchAsync(keyFilters, options, cancellationToken).ConfigureAwait(false);
        await using var _ = watcher.ConfigureAwait(false);
        await foreach (var entry in watcher.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return entry;
        }
    }

    /// <summary>
    /// Starts a watch and returns once its server consumer exists, so no change made afterwards is missed.
    /// Resync notifications (<see cref="KvWatchOptions.OnResync"/>) are delivered as with
    /// <see cref="WatchAsync(IReadOnlyList{string}, KvWatchOptions?, CancellationToken)"/>.
    /// </summary>
    public async Task<KvWatcher> StartWatchAsync(IReadOnlyList<string> keyFilters, KvWatchOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keyFilters);
        options ??= new KvWatchOptions();
        var policy = options.ResumeAfterRevision > 0 ? DeliverPolicy.ByStartSequence
            : options.UpdatesOnly ? DeliverPolicy.New
            : options.IncludeHistory ? DeliverPolicy.All
            : DeliverPolicy.LastPerSubject;
        var consumer = await OpenConsumerAsync(keyFilters, policy, options.ResumeAfterRevision + 1, options.HeadersOnly, options.IdleHeartbeat, cancellationToken).ConfigureAwait(false);
        return new KvWatcher(this, consumer, options);
    }

    /// <summary>
    /// Keys that currently hold a value, optionally matching a filter. Keys holding only a tombstone or an expiry
    /// marker are not listed (the official JS client lists expired keys; we do not).
    /// </summary>
    public async IAsyncEnumerable<string> KeysAsync(string keyFilter = ">", [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var now = TimeProvider.GetUtcNow();
        await foreach (var entry in SnapshotAsync([keyFilter], headersOnly: true, cancellationToken).ConfigureAwait(false))
        {
            if (entry.IsValue && !entry.IsExpiredAt(now))
            {
                yield return entry.Key;
            }
        }
    }

    /// <summary>Every stored revision of <paramref name="key"/>, oldest first (tombstones and markers included).</summary>
    public IAsyncEnumerable<KvEntry> HistoryAsync(string key, CancellationToken cancellationToken = default)
    {
        KvNames.ValidateKey(key);
        return ReadUntilCaughtUpAsync([key], DeliverPolicy.All, headersOnly: false, cancellationToken);
    }

    /// <summary>
    /// The latest revision of every key matching any of <paramref name="keyFilters"/> — values, tombstones and expiry
    /// markers alike (callers filter with <see cref="KvEntry.IsValue"/> and <see cref="KvEntry.IsExpiredAt"/>) — read
    /// with one ordered consumer that stops once it is caught up. One message per key, so the count of entries is the
    /// number of rows the server touched.
    /// </summary>
    public IAsyncEnumerable<KvEntry> SnapshotAsync(IReadOnlyList<string> keyFilters, bool headersOnly = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keyFilters);
        return ReadUntilCaughtUpAsync(keyFilters, DeliverPolicy.LastPerSubject, headersOnly, cancellationToken);
    }

    /// <summary>
    /// The exact number of keys matching <paramref name="keyFilter"/> whose latest revision is a live value (not a
    /// tombstone, an expiry marker or past its TTL). Reads the latest revision of every matching key (headers only),
    /// so it costs one message per key; <see cref="KvBucketStatus.Messages"/> and <see cref="KvBucketStatus.Keys"/>
    /// are free but count tombstones and markers.
    /// </summary>
    public async ValueTask<long> CountValuesAsync(string keyFilter = ">", CancellationToken cancellationToken = default)
    {
        var now = TimeProvider.GetUtcNow();
        long count = 0;
        await foreach (var entry in SnapshotAsync([keyFilter], headersOnly: true, cancellationToken).ConfigureAwait(false))
        {
            if (entry.IsValue && !entry.IsExpiredAt(now))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>
    /// Removes delete/purge tombstones: those older than <paramref name="olderThan"/> entirely, newer ones down to
    /// just the tombstone. Shrinks the server's delete map. Each purge is bounded by the tombstone's revision, so a
    /// value written to the key meanwhile is never removed.
    /// </summary>
    /// <returns>Messages removed.</returns>
    public async ValueTask<ulong> PurgeDeletesAsync(TimeSpan? olderThan = null, CancellationToken cancellationToken = default)
    {
        var threshold = TimeProvider.GetUtcNow() - (olderThan ?? TimeSpan.FromMinutes(30));

        // The history as the server has it now (this handle may predate a change): with history 1 a tombstone has no
        // older revisions behind it, so trimming down to the tombstone would be a request that removes nothing.
        var info = await _js.GetStreamInfoAsync(StreamName, cancellationToken).ConfigureAwait(false);
        var trimToTombstone = info.Config.MaxMsgsPerSubject != 1;
        var purges = new List<TombstonePurge>();
        await foreach (var entry in SnapshotAsync([">"], headersOnly: true, cancellationToken).ConfigureAwait(false))
        {
            if (entry.IsValue || entry.MarkerReason != KvMarkerReason.None)
            {
                continue;
            }

            // STREAM.PURGE's "seq" removes the subject's messages below it: the tombstone included or not.
            if (entry.Created < threshold)
            {
                purges.Add(new TombstonePurge(_readPrefix + entry.Key, entry.Revision + 1));
            }
            else if (trimToTombstone)
            {
                purges.Add(new TombstonePurge(_readPrefix + entry.Key, entry.Revision));
            }
        }

        return await TombstonePurger.RunAsync(_js, StreamName, purges, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Removes every revision of every key matching <paramref name="keyFilter"/> at once (a stream purge), leaving no
    /// tombstones. Watchers are not told. For clearing a key space, e.g. a test table.
    /// </summary>
    /// <returns>Messages removed.</returns>
    public ValueTask<ulong> PurgeKeysAsync(string keyFilter = ">", CancellationToken cancellationToken = default)
    {
        KvNames.ValidateKey(keyFilter, allowWildcards: true, nameof(keyFilter));
        return _js.PurgeAsync(StreamName, _readPrefix + keyFilter, belowSequence: 0, keep: 0, cancellationToken);
    }

    /// <summary>What the consumer delivers until it is caught up (pending reaches zero), then stops.</summary>
    private async IAsyncEnumerable<KvEntry> ReadUntilCaughtUpAsync(IReadOnlyList<string> keyFilters, DeliverPolicy policy, bool headersOnly, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var consumer = await OpenConsumerAsync(keyFilters, policy, 0, headersOnly, TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
        await using var _ = consumer.ConfigureAwait(false);
        if (consumer.InitialPending == 0)
        {
            yield break;
        }

        await foreach (var delivery in consumer.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return ToEntry(delivery);
            if (delivery.Pending == 0)
            {
                yield break;
            }
        }
    }

    private Task<OrderedConsumer> OpenConsumerAsync(IReadOnlyList<string> keyFilters, DeliverPolicy policy, ulong startSequence, bool headersOnly, TimeSpan heartbeat, CancellationToken cancellationToken)
    {
        var subjects = new List<string>(keyFilters.Count);
        foreach (var filter in keyFilters)
        {
            KvNames.ValidateKey(filter, allowWildcards: true, paramName: nameof(keyFilters));
            subjects.Add(_readPrefix + filter);
        }

        return OrderedConsumer.CreateAsync(_js, StreamName, new OrderedConsumerOptions { FilterSubjects = subjects, DeliverPolicy = policy, StartSequence = startSequence, HeadersOnly = headersOnly, IdleHeartbeat = heartbeat }, cancellationToken);
    }
}
