using CacheProvider.Grains.Caching.Internal;
using CacheProvider.KeyValue;
using Orleans;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace CacheProvider.Grains.Caching;

// Grain code continues on the activation's scheduler: no ConfigureAwait(false).
#pragma warning disable CA2007

/// <summary>
/// The grain behind one cache key. The activation reads its entry from KV once (so concurrent calls for a missing key
/// reach storage once), keeps the value in memory, writes every change (and each due sliding renewal) with the
/// entry's TTL, and registers with the <see cref="GrainStateWatcher"/>: the server's expiry marker, a removal or a
/// write by someone else (a later revision than its own) drops the value and deactivates the activation.
/// Reentrant so that lease waiters do not block the lease holder; every state change happens between awaits, and
/// KV writes go out one at a time.
/// </summary>
[Reentrant]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The write gate lives as long as the activation; it holds no unmanaged resource.")]
internal sealed class CacheGrain : Grain, ICacheGrain
{
    private readonly CacheGrainStore _store;
    private readonly SemaphoreSlim _writes = new(1, 1);
    private string _key = string.Empty;
    private TaskScheduler _scheduler = TaskScheduler.Default;
    private GrainStateWatchRegistration? _registration;
    private byte[]? _value;
    private CacheEntryExpiration _expiration;
    private long _serverDeadlineMs;
    private long _slidingDeadlineMs;
    private ulong _revision;
    private int _inFlight;
    private ulong _pendingRevision;
    private bool _pendingResync;
    private bool _renewing;
    private Guid? _lease;
    private TaskCompletionSource? _leaseEnded;
    private bool _deactivateWhenLeaseEnds;

    public CacheGrain(CacheGrainStore store) => _store = store;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _scheduler = TaskScheduler.Current;
        _key = _store.KeyOf(this.GetGrainId());
        _inFlight++;
        try
        {
            // Registered before the read: a change racing the read is held until the read's revision is known.
            _registration = _store.Watcher.Register(_key, 0, static (change, state) => ((CacheGrain)state!).Post(change), this);
            KvEntry? entry;
            try
            {
                entry = await _store.ReadAsync(_key, cancellationToken);
            }
            catch
            {
                // The activation fails (OnDeactivateAsync does not run): unregister here.
                _registration.Dispose();
                _registration = null;
                throw;
            }

            var nowMs = NowMs();
            if (entry is not null)
            {
                _revision = entry.Revision;
            }

            if (entry is { IsValue: true } && !entry.IsExpiredAt(_store.Time.GetUtcNow()))
            {
                var expiration = CacheGrainStore.ExpirationOf(entry);
                var serverDeadline = entry.ExpiresAt?.ToUnixTimeMilliseconds() ?? 0;
                if (expiration.AbsoluteUnixMs == 0 || expiration.AbsoluteUnixMs > nowMs)
                {
                    _value = entry.Value.ToArray();
                    _expiration = expiration;
                    _serverDeadlineMs = serverDeadline;

                    // After a restart the last read is unknown: the stored deadline is the bound (window × (1 + fraction) after the last write).
                    _slidingDeadlineMs = expiration.SlidingMs > 0 ? Cap(serverDeadline > 0 ? serverDeadline : nowMs + expiration.SlidingMs, expiration) : 0;
                }
            }
        }
        finally
        {
            EndOperation();
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _registration?.Dispose();
        _registration = null;
        _value = null;
        _leaseEnded?.TrySetResult();
        return Task.CompletedTask;
    }

    public async Task<byte[]?> Get()
    {
        var nowMs = NowMs();
        if (!IsLive(nowMs))
        {
            return null;
        }

        var value = _value;
        await SlideAsync(nowMs);
        return value;
    }

    public async Task<CacheEntryRead> GetForNearCache()
    {
        var nowMs = NowMs();
        if (!IsLive(nowMs))
        {
            return new CacheEntryRead();
        }

        var value = _value!;
        await SlideAsync(nowMs);
        if (_inFlight > 0 || !ReferenceEquals(_value, value))
        {
            // A write is under way: the value and _revision may not belong together, so no copy.
            return new CacheEntryRead { Value = value };
        }

        var (copyMs, keepSlidingUntil) = NearCopyRule.Plan(_expiration, _serverDeadlineMs, NowMs());
        if (copyMs == NearCopyRule.None)
        {
            return new CacheEntryRead { Value = value };
        }

        _slidingDeadlineMs = Math.Max(_slidingDeadlineMs, keepSlidingUntil);
        return new CacheEntryRead { Value = value, Revision = _revision, CopyValidFor = copyMs == NearCopyRule.Unbounded ? null : TimeSpan.FromMilliseconds(copyMs) };
    }

    public async Task Set(byte[] value, CacheEntryExpiration expiration)
    {
        ArgumentNullException.ThrowIfNull(value);
        var nowMs = NowMs();
        _value = value;
        _expiration = expiration;
        _slidingDeadlineMs = expiration.SlidingMs > 0 ? Cap(nowMs + expiration.SlidingMs, expiration) : 0;
        try
        {
            await PersistAsync(value, expiration, nowMs);
        }
        catch
        {
            // Not stored: drop the copy (KV is the truth) so no reader sees a value that is not there.
            Invalidate();
            throw;
        }

        if (_lease is not null && _leaseEnded is { } waiting)
        {
            // A value arrived while a GetOrCreate factory runs: its waiters take this one (the holder's still lands later).
            _leaseEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            waiting.TrySetResult();
        }
    }

    public async Task Refresh()
    {
        var nowMs = NowMs();
        if (IsLive(nowMs))
        {
            await SlideAsync(nowMs);
        }
    }

    public async Task Remove()
    {
        _value = null;
        _inFlight++;
        await _writes.WaitAsync();
        try
        {
            _revision = Math.Max(_revision, await _store.RemoveAsync(_key, CancellationToken.None));
        }
        finally
        {
            _writes.Release();
            EndOperation();
        }

        this.DeactivateOnIdle();
    }

    public async Task<CacheLookup> GetOrLease(TimeSpan leaseWait)
    {
        while (true)
        {
            var value = await Get();
            if (value is not null)
            {
                return new CacheLookup { Value = value };
            }

            if (_lease is null)
            {
                var lease = Guid.NewGuid();
                _lease = lease;
                _leaseEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                return new CacheLookup { Lease = lease };
            }

            var held = _lease;
            var ended = _leaseEnded!.Task;
            try
            {
                await ended.WaitAsync(leaseWait);
            }
            catch (TimeoutException)
            {
                // The holder went silent (crashed client): the next caller may try.
                if (_lease == held)
                {
                    EndLease();
                }
            }
        }
    }

    public async Task CompleteLease(Guid lease, byte[] value, CacheEntryExpiration expiration)
    {
        try
        {
            await Set(value, expiration);
        }
        finally
        {
            if (_lease == lease)
            {
                EndLease();
            }
        }
    }

    public Task AbandonLease(Guid lease)
    {
        if (_lease == lease)
        {
            EndLease();
        }

        return Task.CompletedTask;
    }

    private void EndLease()
    {
        _lease = null;
        var ended = _leaseEnded;
        _leaseEnded = null;
        ended?.TrySetResult();
        if (_deactivateWhenLeaseEnds)
        {
            _deactivateWhenLeaseEnds = false;
            if (_value is null)
            {
                this.DeactivateOnIdle();
            }
        }
    }

    private bool IsLive(long nowMs)
    {
        if (_value is null)
        {
            return false;
        }

        var expired = (_expiration.AbsoluteUnixMs > 0 && _expiration.AbsoluteUnixMs <= nowMs)
            || (_slidingDeadlineMs > 0 && _slidingDeadlineMs <= nowMs);
        if (expired)
        {
            // The value is gone for readers now; the server's marker (TTLs are whole seconds) follows and deactivates.
            _value = null;
            return false;
        }

        return true;
    }

    private async Task SlideAsync(long nowMs)
    {
        if (_expiration.SlidingMs <= 0)
        {
            return;
        }

        // Never earlier than a front-end copy was promised (GetForNearCache).
        _slidingDeadlineMs = Math.Max(_slidingDeadlineMs, Cap(nowMs + _expiration.SlidingMs, _expiration));
        if (_renewing || !CacheExpiration.NeedsRenewal(_expiration, _serverDeadlineMs, nowMs) || _value is not { } value)
        {
            return;
        }

        _renewing = true;
        try
        {
            await PersistAsync(value, _expiration, nowMs);
        }
        finally
        {
            _renewing = false;
        }
    }

    private async Task PersistAsync(byte[] value, CacheEntryExpiration expiration, long nowMs)
    {
        _inFlight++;
        await _writes.WaitAsync();
        try
        {
            var ttl = CacheExpiration.ServerTtl(expiration, nowMs, _store.Options.SlidingRenewalFraction);
            var revision = await _store.WriteAsync(_key, value, expiration, ttl, CancellationToken.None);
            _revision = Math.Max(_revision, revision);
            if (ReferenceEquals(_value, value))
            {
                _serverDeadlineMs = ttl is { } t ? nowMs + (long)t.TotalMilliseconds : 0;
            }
        }
        finally
        {
            _writes.Release();
            EndOperation();
        }
    }

    /// <summary>Watcher callback (thread pool): continue on the activation's scheduler.</summary>
    private void Post(GrainStateChange change) =>
        _ = Task.Factory.StartNew(static s => { var (grain, c) = ((CacheGrain, GrainStateChange))s!; grain.OnChange(c); }, (this, change), CancellationToken.None, TaskCreationOptions.None, _scheduler);

    private void OnChange(GrainStateChange change)
    {
        if (_inFlight > 0)
        {
            if (change.Kind == GrainStateChangeKind.Resync)
            {
                _pendingResync = true;
            }
            else
            {
                _pendingRevision = Math.Max(_pendingRevision, change.Revision);
            }

            return;
        }

        if (change.Kind == GrainStateChangeKind.Resync || change.Revision > _revision)
        {
            Invalidate();
        }
    }

    private void EndOperation()
    {
        if (--_inFlight > 0)
        {
            return;
        }

        var resync = _pendingResync;
        var pending = _pendingRevision;
        _pendingResync = false;
        _pendingRevision = 0;
        if (resync || pending > _revision)
        {
            Invalidate();
        }
    }

    /// <summary>Drops the value and lets the activation go (its memory is released; the next call re-reads KV).</summary>
    private void Invalidate()
    {
        _value = null;
        if (_lease is null)
        {
            this.DeactivateOnIdle();
        }
        else
        {
            // A caller is creating the value: its waiters stay on this activation until it lands.
            _deactivateWhenLeaseEnds = true;
        }
    }

    private long NowMs() => _store.Time.GetUtcNow().ToUnixTimeMilliseconds();

    private static long Cap(long deadlineMs, CacheEntryExpiration expiration) =>
        expiration.AbsoluteUnixMs > 0 ? Math.Min(deadlineMs, expiration.AbsoluteUnixMs) : deadlineMs;
}
