using System.Collections.Concurrent;
using CacheProvider.Caching;
using Microsoft.Extensions.Caching.Memory;

namespace CacheProvider.Hybrid.Internal;

/// <summary>
/// What one HybridCache's L1 and L2 views share with its invalidator: which keys were invalidated since when, the L2 read
/// in progress on the current async flow, and which L1 keys this HybridCache holds. Closes the race in which an L2 read
/// that was in flight when another node's change arrived puts the older value into L1 after the eviction:
/// <list type="bullet">
/// <item>each applied change takes a number from one sequence and stores it in the key's slot (keys share slots by hash,
/// which only ever makes a check more cautious);</item>
/// <item>an L2 read notes the sequence when it starts; when the key's slot moved on meanwhile it reads again;</item>
/// <item>an L1 insertion of a value that came from such a read is refused when the key's slot moved on since the read
/// started. The check and the insertion, and an applied change's slot update and eviction, happen under the same lock
/// (striped by slot), so neither can slip between the other's steps.</item>
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
    private readonly long[] _slots = new long[SlotCount];
    private readonly object[] _stripes = new object[StripeCount];
    private readonly AsyncLocal<L2Read?> _read = new();

    // HybridCache's L1 keys: key → id of the entry this view committed (so a late eviction callback of a replaced entry
    // does not forget the newer one).
    private readonly ConcurrentDictionary<string, long> _held = new(StringComparer.Ordinal);

    // L2 reads that handed HybridCache a value which it has not put into L1 yet: HybridCache may still give that value to
    // callers that join the fetch, so applying a newer change of the key waits for them.
    private readonly ConcurrentDictionary<L2Read, byte> _handedOut = new();
    private long _sequence;
    private long _flushedAt;
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
    public int HandedOutCount => _handedOut.Count;

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

    /// <summary>Whether a change of <paramref name="key"/> (or a flush) was applied after sequence <paramref name="since"/>.</summary>
    public bool ChangedSince(string key, long since) =>
        Volatile.Read(ref _slots[Slot(key)]) > since || Volatile.Read(ref _flushedAt) > since;

    /// <summary>The sequence now: a read that starts after this sees every change applied up to it.</summary>
    public long Sequence => Volatile.Read(ref _sequence);

    /// <summary>
    /// Applies another node's change of <paramref name="key"/>: later fills from older reads are refused, and L1 drops the
    /// key. Returns the fetches of the key that already handed HybridCache an older value and have not reached L1 yet
    /// (null when none: the usual case); the change counts as applied once they are done.
    /// </summary>
    public List<Task>? Invalidate(string key)
    {
        var slot = Slot(key);
        long sequence;
        lock (_stripes[slot % StripeCount])
        {
            sequence = Interlocked.Increment(ref _sequence);
            Volatile.Write(ref _slots[slot], sequence);
            L1?.Remove(key);
        }

        List<Task>? pending = null;
        if (!_handedOut.IsEmpty)
        {
            var now = Environment.TickCount64;
            foreach (var (read, _) in _handedOut)
            {
                if (now - read.HandedOutAt > ForgetHandedOutAfterMs)
                {
                    _handedOut.TryRemove(read, out _); // that fetch never filled L1 (L1 writes off, or it failed)
                }
                else if (read.Since < sequence && string.Equals(read.Key, key, StringComparison.Ordinal))
                {
                    (pending ??= []).Add(read.Done.Task);
                }
            }
        }

        return pending;
    }

    /// <summary>An L2 read hands its value to HybridCache (called just before it returns).</summary>
    public void HandOut(L2Read read)
    {
        read.HandedOutAt = Environment.TickCount64;
        _handedOut.TryAdd(read, 0);
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
    /// Commits an L1 entry HybridCache built, unless its value came from an L2 read of the same key that started before a
    /// change of that key was applied. Returns false when refused (the caller then releases the value).
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
                if (fromRead && ChangedSince(key, read!.Since))
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
            if (fromRead && _handedOut.TryRemove(read!, out _))
            {
                read!.Complete();
            }
        }
    }

    /// <summary>An L1 entry this view committed was evicted, replaced or removed.</summary>
    public void Released(string key, long id) => _held.TryRemove(new KeyValuePair<string, long>(key, id));

    /// <summary>Counts an L2 read repeated because of a change applied meanwhile.</summary>
    public void CountReread() => Interlocked.Increment(ref _rereads);

    private static int Slot(string key) => (int)((uint)key.GetHashCode() % SlotCount);

    /// <summary>One L2 read by HybridCache: its key, the sequence its last attempt started at, whether it found a value.</summary>
    internal sealed class L2Read(string key, long since)
    {
        private TaskCompletionSource? _done;
        private int _completed;

        public string Key { get; } = key;

        public long Since { get; set; } = since;

        public bool Hit { get; set; }

        public long HandedOutAt { get; set; }

        /// <summary>Completes when HybridCache put (or was refused to put) the value into L1; made only when waited for.</summary>
        public TaskCompletionSource Done
        {
            get
            {
                var done = LazyInitializer.EnsureInitialized(ref _done, static () => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                if (Interlocked.CompareExchange(ref _completed, 0, 0) == 1)
                {
                    done.TrySetResult();
                }

                return done;
            }
        }

        /// <summary>HybridCache is done with the value.</summary>
        public void Complete()
        {
            Interlocked.Exchange(ref _completed, 1);
            Interlocked.CompareExchange(ref _done, null, null)?.TrySetResult();
        }
    }
}
