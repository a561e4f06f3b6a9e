using System.Collections.Concurrent;
using CacheProvider.Caching;
using Microsoft.Extensions.Caching.Memory;

namespace CacheProvider.Hybrid.Internal;

/// <summary>
/// What one HybridCache's L1 and L2 views share with its invalidator: the newest revision of each key whose change was
/// applied, the L2 read in progress on the current async flow, and which L1 keys this HybridCache holds. Closes the race
/// in which an L2 read that was in flight when another node's change arrived gives HybridCache the older value:
/// <list type="bullet">
/// <item>each applied change records its key's newest revision in the key's slot (keys share slots by hash: when
/// another key took the slot, a read falls back to "was anything applied there since I started");</item>
/// <item>an L2 read knows the revision it read; when it is below its key's newest applied one it reads again (a value is
/// never older than a change applied before it is handed out, however many changes arrive meanwhile);</item>
/// <item>an L1 insertion of a value from such a read is refused when its revision is below the slot. The check and the
/// insertion, and an applied change's slot update and eviction, happen under the same lock (striped by slot);</item>
/// <item>a read registers its hand-out before that check, and a change scans the hand-outs after raising the slot, so
/// either the read sees the change or the change waits until HybridCache has let go of the read's fetch (no caller can
/// join it any more).</item>
/// </list>
/// HybridCache reads L2 and fills L1 in one async method, so the read in progress travels in an
/// <see cref="AsyncLocal{T}"/> from the L2 view to the L1 view.
/// </summary>
internal sealed class HybridCacheGuard
{
    private const int SlotCount = 1 << 13;
    private const int StripeCount = 64;

    // A fetch that handed out a value and did not fill L1 this long after is assumed never to (L1 writes turned off by
    // its flags, or deserialization failed); the longest a change's application waits for one.
    private const long ForgetHandedOutAfterMs = 200;
    private readonly SlotState?[] _slots = new SlotState?[SlotCount];
    private readonly object[] _stripes = new object[StripeCount];
    // HybridCache writes L1 first and only then removes the in-flight fetch (which callers may still join) and completes
    // it, in the same synchronous run. A fetch is let go when its async flow leaves the thread after its L1 write: the
    // change notification of this AsyncLocal tells when.
    private readonly AsyncLocal<L2Read?> _read = new(OnReadFlowChanged);

    // HybridCache's L1 keys: key → id of the entry this view committed (so a late eviction callback of a replaced entry
    // does not forget the newer one).
    private readonly ConcurrentDictionary<string, long> _held = new(StringComparer.Ordinal);

    // L2 reads that handed HybridCache a value which it has not put into L1 yet: HybridCache may still give that value to
    // callers that join the fetch, so applying a newer change of the key waits for them.
    private readonly ConcurrentDictionary<L2Read, byte> _handedOut = new();
    private long _sequence;
    private long _flushedAt;
    private long _handOuts;
    private long _entryIds;
    private long _refusedFills;
    private long _rereads;

    public HybridCacheGuard(object? serviceKey)
    {
        ServiceKey = serviceKey;
        for (var i = 0; i < StripeCount; i++)
        {
            _stripes[i] = new object();
        }
    }

    /// <summary>The HybridCache's service key (null: the default HybridCache).</summary>
    public object? ServiceKey { get; }

    /// <summary>The app's memory cache (HybridCache's L1), once HybridCache was created.</summary>
    public IMemoryCache? L1 { get; private set; }

    /// <summary>HybridCache's L2 when it is the NATS cache, once HybridCache was created.</summary>
    public NatsDistributedCache? Nats { get; private set; }

    /// <summary>What HybridCache's L2 is when it is not the NATS cache ("not registered" when none).</summary>
    public string? OtherL2 { get; private set; }

    /// <summary>L1 insertions refused because their value was read from L2 before a change of the key was applied.</summary>
    public long RefusedFills => Interlocked.Read(ref _refusedFills);

    /// <summary>L2 reads repeated because a change of the key was applied while they were in flight.</summary>
    public long Rereads => Interlocked.Read(ref _rereads);

    /// <summary>L2 reads whose value HybridCache has not put into L1 yet (normally none between operations).</summary>
    public int HandedOutCount
    {
        get
        {
            var count = 0;
            foreach (var (read, _) in _handedOut)
            {
                count += read.IsSettled ? 0 : 1;
            }

            return count;
        }
    }

    /// <summary>HybridCache's L1 keys as this guard knows them.</summary>
    public ICollection<string> HeldKeys => _held.Keys;

    /// <summary>The view HybridCache gets instead of the app's memory cache.</summary>
    public IMemoryCache WrapL1(IMemoryCache inner)
    {
        L1 = inner;
        return new GuardedMemoryCache(inner, this);
    }

    /// <summary>The view HybridCache gets instead of its distributed cache (only the NATS cache is wrapped).</summary>
    public object? WrapL2(object? inner)
    {
        if (inner is NatsDistributedCache nats)
        {
            Nats = nats;
            return new GuardedDistributedCache(nats, this);
        }

        OtherL2 = inner is null ? "not registered" : inner.GetType().FullName;
        return inner;
    }

    /// <summary>Tests only: awaited after each L2 read returned, before it is checked (pauses a read "in flight").</summary>
    internal Func<string, Task>? AfterL2ReadForTests { get; set; }

    /// <summary>Tests only: called when HybridCache commits an L1 entry, before the guard decides.</summary>
    internal Action<string>? BeforeCommitForTests { get; set; }

    /// <summary>Starts tracking an L2 read of <paramref name="key"/> on the current async flow.</summary>
    public L2Read BeginRead(string key)
    {
        var read = new L2Read(key, Volatile.Read(ref _sequence));
        _read.Value = read;
        return read;
    }

    /// <summary>
    /// Whether the value <paramref name="read"/> found is older than a change of its key applied since, or a flush
    /// happened after the read started (changes may have gone unseen).
    /// </summary>
    public bool IsOutdated(L2Read read)
    {
        // The slot's key exactly: compare revisions. Another key took the slot since: whether anything was applied there
        // after the read started (cautious, never wrong).
        var state = Volatile.Read(ref _slots[Slot(read.Key)]);
        if (state is not null && (string.Equals(state.Key, read.Key, StringComparison.Ordinal) ? state.Revision > read.Revision : state.Sequence > read.Since))
        {
            return true;
        }

        return Volatile.Read(ref _flushedAt) > read.Since;
    }

    /// <summary>
    /// Applies another node's change of <paramref name="key"/> stored at <paramref name="revision"/>: later fills from
    /// older reads are refused, and L1 drops the key. Returns the fetches of the key that already handed HybridCache an
    /// older value and that HybridCache has not let go of yet (null when none: the usual case); the change counts as
    /// applied once they are done.
    /// </summary>
    public List<Task>? Invalidate(string key, ulong revision)
    {
        var slot = Slot(key);
        lock (_stripes[slot % StripeCount])
        {
            var state = _slots[slot];
            var newest = state is not null && string.Equals(state.Key, key, StringComparison.Ordinal) && state.Revision > revision ? state.Revision : revision;
            Volatile.Write(ref _slots[slot], new SlotState(key, newest, Interlocked.Increment(ref _sequence)));
            L1?.Remove(key);
        }

        // Pairs with the barrier in HandOut (store of the slot, then load of the hand-outs; and the reverse there).
        Interlocked.MemoryBarrier();
        List<Task>? pending = null;
        if (!_handedOut.IsEmpty)
        {
            var now = Environment.TickCount64;
            foreach (var (read, _) in _handedOut)
            {
                if (read.IsReleased || now - read.HandedOutAt > ForgetHandedOutAfterMs)
                {
                    _handedOut.TryRemove(read, out _); // let go, or it never filled L1 (L1 writes off, or it failed)
                }
                else if (read.Revision < revision && string.Equals(read.Key, key, StringComparison.Ordinal))
                {
                    (pending ??= []).Add(read.Done);
                }
            }
        }

        return pending;
    }

    /// <summary>An L2 read is about to hand its value to HybridCache (called before its last check for changes).</summary>
    public void HandOut(L2Read read)
    {
        read.HandedOutAt = Environment.TickCount64;
        _handedOut.TryAdd(read, 0);
        if ((Interlocked.Increment(ref _handOuts) & 255) == 0)
        {
            ForgetSettled(read.HandedOutAt);
        }

        // Pairs with the barrier in Invalidate: either that scan sees this read, or the read's check sees the change.
        Interlocked.MemoryBarrier();
    }

    /// <summary>A handed-out read found a change applied meanwhile: it reads again from the sequence now.</summary>
    public void Withdraw(L2Read read)
    {
        _handedOut.TryRemove(read, out _);
        read.Restart(Volatile.Read(ref _sequence));
    }

    /// <summary>Drops every L1 entry of this HybridCache; fills from reads that started before are refused.</summary>
    public void Flush()
    {
        Volatile.Write(ref _flushedAt, Interlocked.Increment(ref _sequence));
        foreach (var key in _held.Keys)
        {
            var slot = Slot(key);
            lock (_stripes[slot % StripeCount])
            {
                L1?.Remove(key);
            }
        }
    }

    /// <summary>
    /// Commits an L1 entry HybridCache built, unless its value came from an L2 read of the same key and is older than a
    /// change of that key applied since (or a flush). Returns false when refused (the caller then releases the value).
    /// </summary>
    public bool TryCommit(GuardedCacheEntry entry)
    {
        var key = entry.StringKey;
        BeforeCommitForTests?.Invoke(key);
        var read = _read.Value;
        var fromRead = read is { Hit: true } && string.Equals(read.Key, key, StringComparison.Ordinal);
        var slot = Slot(key);
        try
        {
            lock (_stripes[slot % StripeCount])
            {
                if (fromRead && IsOutdated(read!))
                {
                    Interlocked.Increment(ref _refusedFills);
                    return false;
                }

                var id = Interlocked.Increment(ref _entryIds);
                entry.CommitTo(L1!, id);
                _held[key] = id;
                return true;
            }
        }
        finally
        {
            if (fromRead && _handedOut.ContainsKey(read!))
            {
                // Stays registered until its flow leaves the thread: HybridCache has yet to let go of the fetch.
                read!.Settle();
            }
        }
    }

    /// <summary>Drops released or forgotten hand-outs (changes do it too; this keeps a quiet cache from piling them up).</summary>
    private void ForgetSettled(long now)
    {
        foreach (var (read, _) in _handedOut)
        {
            if (read.IsReleased || now - read.HandedOutAt > ForgetHandedOutAfterMs)
            {
                _handedOut.TryRemove(read, out _);
            }
        }
    }

    /// <summary>A fetch's flow left its thread: once its value is in L1 (or refused), HybridCache has let go of the fetch.</summary>
    private static void OnReadFlowChanged(AsyncLocalValueChangedArgs<L2Read?> change)
    {
        if (change.ThreadContextChanged && change.PreviousValue is { IsSettled: true } read && !ReferenceEquals(change.CurrentValue, read))
        {
            read.Release();
        }
    }

    /// <summary>An L1 entry this view committed was evicted, replaced or removed.</summary>
    public void Released(string key, long id) => _held.TryRemove(new KeyValuePair<string, long>(key, id));

    /// <summary>Counts an L2 read repeated because of a change applied meanwhile.</summary>
    public void CountReread() => Interlocked.Increment(ref _rereads);

    private static int Slot(string key) => (int)((uint)key.GetHashCode() % SlotCount);

    /// <summary>The last key whose change was applied in a slot, its newest revision applied, and the sequence then.</summary>
    private sealed record SlotState(string Key, ulong Revision, long Sequence);

    /// <summary>One L2 read by HybridCache: its key, the sequence its last attempt started at, whether it found a value.</summary>
    internal sealed class L2Read(string key, long since)
    {
        private readonly Lock _gate = new();
        private TaskCompletionSource? _done;
        private volatile bool _settled;
        private volatile bool _released;

        public string Key { get; } = key;

        public long Since { get; private set; } = since;

        /// <summary>The KV revision of the value the last attempt found (0: none).</summary>
        public ulong Revision { get; set; }

        /// <summary>The last attempt found a value (revisions start at 1).</summary>
        public bool Hit => Revision != 0;

        public long HandedOutAt { get; set; }

        /// <summary>HybridCache wrote (or was refused to write) the value into L1.</summary>
        public bool IsSettled => _settled;

        /// <summary>HybridCache has let go of the fetch: no caller can join it any more.</summary>
        public bool IsReleased => _released;

        /// <summary>Completes when the fetch is released, or the read withdrawn.</summary>
        public Task Done
        {
            get
            {
                lock (_gate)
                {
                    return _released ? Task.CompletedTask : (_done ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
                }
            }
        }

        /// <summary>HybridCache wrote (or was refused to write) the value into L1; it lets go of the fetch right after.</summary>
        public void Settle() => _settled = true;

        /// <summary>HybridCache let go of the fetch.</summary>
        public void Release()
        {
            TaskCompletionSource? done;
            lock (_gate)
            {
                _released = true;
                done = _done;
            }

            done?.TrySetResult();
        }

        /// <summary>The handed-out value was withdrawn (whoever waited for it need not); the read starts over at <paramref name="since"/>.</summary>
        public void Restart(long since)
        {
            TaskCompletionSource? done;
            lock (_gate)
            {
                done = _done;
                _done = null;
                _settled = false;
                _released = false;
                Revision = 0;
                Since = since;
            }

            done?.TrySetResult();
        }
    }
}
