using System.Collections.Concurrent;

namespace CacheProvider.Caching;

/// <summary>
/// An in-process copy of KV values (value + revision + deadline per KV key, bounded in entries), kept correct by a
/// bucket watch: the building block of the cache's and the session store's near caches. It serves only while its owner
/// says the watch is live (<see cref="Enable"/>/<see cref="Disable"/>), is flushed on any watch gap or disconnect, and
/// never returns an entry past its deadline. Thread-safe.
/// </summary>
/// <remarks>
/// A read can fetch revision r just before the watch processes a newer revision r' of the same key. To never keep
/// such a stale value, the watch records the newest revision it saw per key (for a short while) before removing the
/// entry, and an insert removes itself again when that record is newer than what it inserted.
/// </remarks>
public sealed class NearCache
{
    private static readonly long RecentTicks = TimeSpan.FromSeconds(30).Ticks;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (ulong Revision, long At)> _recentlyChanged = new(StringComparer.Ordinal);
    private readonly int _maxEntries;
    private readonly int _maxValueBytes;
    private volatile bool _enabled;
    private long _lastPrune;

    /// <summary>Creates an empty, disabled copy holding at most <paramref name="maxEntries"/> values of up to <paramref name="maxValueBytes"/> bytes.</summary>
    public NearCache(int maxEntries, int maxValueBytes)
    {
        _maxEntries = maxEntries;
        _maxValueBytes = maxValueBytes;
    }

    /// <summary>Entries held.</summary>
    public int Count => _entries.Count;

    /// <summary>Whether entries are served (the owner's watch is live).</summary>
    public bool Enabled => _enabled;

    /// <summary>Starts serving (the owner's watch is live and caught up).</summary>
    public void Enable() => _enabled = true;

    /// <summary>Stops serving and drops everything (watch gap, disconnect, shutdown).</summary>
    public void Disable()
    {
        _enabled = false;
        _entries.Clear();
    }

    /// <summary>A live entry, or false; an entry past its deadline is removed.</summary>
    public bool TryGet(string key, long nowMs, out Entry entry)
    {
        if (_enabled && _entries.TryGetValue(key, out entry!))
        {
            if (entry.DeadlineMs == 0 || nowMs < entry.DeadlineMs)
            {
                if (entry.LastAccessMs != nowMs)
                {
                    // Hot keys are read by many threads within the same millisecond: skip the store that would
                    // bounce the entry's cache line between cores.
                    entry.LastAccessMs = nowMs;
                }

                return true;
            }

            _entries.TryRemove(new KeyValuePair<string, Entry>(key, entry));
        }

        entry = null!;
        return false;
    }

    /// <summary>
    /// Stores <paramref name="value"/> (not copied: never change it afterwards) at <paramref name="revision"/>, unless the
    /// watch already reported a newer revision of the key. <paramref name="deadlineMs"/> (Unix ms, 0 = none) ends it.
    /// </summary>
    public void Set(string key, byte[] value, ulong revision, long deadlineMs, long serverDeadlineMs, long slidingMs, long nowMs)
    {
        if (!_enabled || value.Length > _maxValueBytes)
        {
            return;
        }

        if (_entries.Count >= _maxEntries)
        {
            Evict();
        }

        var entry = new Entry(value, revision, deadlineMs, serverDeadlineMs, slidingMs) { LastAccessMs = nowMs };
        _entries[key] = entry;
        if (_recentlyChanged.TryGetValue(key, out var changed) && changed.Revision > revision)
        {
            // The watch already saw a newer revision: what we just inserted is stale.
            _entries.TryRemove(new KeyValuePair<string, Entry>(key, entry));
        }
    }

    /// <summary>Any node wrote, removed, or the server expired <paramref name="key"/> at <paramref name="revision"/>.</summary>
    /// <returns>Whether an entry was dropped.</returns>
    public bool Invalidate(string key, ulong revision)
    {
        var now = Environment.TickCount64 * TimeSpan.TicksPerMillisecond;
        _recentlyChanged[key] = (revision, now);
        PruneRecent(now);
        if (_entries.TryGetValue(key, out var entry) && entry.Revision < revision)
        {
            return _entries.TryRemove(new KeyValuePair<string, Entry>(key, entry));
        }

        return false;
    }

    /// <summary>This node removed the key itself.</summary>
    public void Remove(string key) => _entries.TryRemove(key, out _);

    private void PruneRecent(long now)
    {
        var last = Interlocked.Read(ref _lastPrune);
        if (now - last < RecentTicks || Interlocked.CompareExchange(ref _lastPrune, now, last) != last)
        {
            return;
        }

        foreach (var (key, value) in _recentlyChanged)
        {
            if (now - value.At > RecentTicks)
            {
                _recentlyChanged.TryRemove(new KeyValuePair<string, (ulong, long)>(key, value));
            }
        }
    }

    /// <summary>Drops the least recently used tenth (sampled scan: runs once per tenth of capacity inserts).</summary>
    private void Evict()
    {
        var target = Math.Max(1, _maxEntries / 10);
        var snapshot = _entries.ToArray();
        Array.Sort(snapshot, static (a, b) => a.Value.LastAccessMs.CompareTo(b.Value.LastAccessMs));
        for (var i = 0; i < target && i < snapshot.Length; i++)
        {
            _entries.TryRemove(snapshot[i]);
        }
    }

    /// <summary>One held value.</summary>
    public sealed class Entry(byte[] value, ulong revision, long deadlineMs, long serverDeadlineMs, long slidingMs)
    {
        /// <summary>The value (shared: do not change it).</summary>
        public byte[] Value { get; } = value;

        /// <summary>Its KV revision.</summary>
        public ulong Revision { get; } = revision;

        /// <summary>Earliest of the server TTL deadline and the absolute expiration (Unix ms); 0 = none.</summary>
        public long DeadlineMs { get; } = deadlineMs;

        /// <summary>The server TTL deadline (Unix ms); 0 = none.</summary>
        public long ServerDeadlineMs { get; } = serverDeadlineMs;

        /// <summary>Sliding window in ms; 0 = none.</summary>
        public long SlidingMs { get; } = slidingMs;

        /// <summary>When it was last read (Unix ms), for eviction.</summary>
        public long LastAccessMs { get; set; }
    }
}
