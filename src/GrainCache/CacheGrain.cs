using CacheProvider.Grains.Caching.Internal;
using Orleans;
using Orleans.Concurrency;
using Orleans.Runtime;
using Orleans.Storage;

namespace CacheProvider.Grains.Caching;

// Grain code continues on the activation's scheduler: no ConfigureAwait(false).
#pragma warning disable CA2007

/// <summary>
/// The grain behind one cache key. The activation reads its entry through the grain storage once (so concurrent calls
/// for a missing key reach storage once), keeps the value in memory, writes every change (and each due sliding
/// renewal) as a <see cref="CacheEntryState"/> whose TTL is the entry's (<see cref="IStateTimeToLive"/>). The storage
/// itself registers the activation when it reads the entry (as for any grain, <see cref="NatsGrainStorageOptions.DeactivateOnStateChange"/>):
/// the server's expiry marker, a removal or a write by someone else drops the value and deactivates the activation.
/// The grain takes part (<see cref="IGrainStateChangeParticipant"/>) only to hold the deactivation while one of its
/// own writes or a lease (a GetOrCreate factory with waiters) is under way.
/// Reentrant so that lease waiters do not block the lease holder; every state change happens between awaits, and
/// storage writes go out one at a time.
/// </summary>
/// <remarks>
/// The storage is used directly (<see cref="IGrainStorage"/>, called from the activation, so the storage knows the
/// activation it reads for), not through an <c>IPersistentState</c> facet, although the per-entry TTL could be expressed
/// through one (<see cref="IStateTimeToLive"/> on the state): (1) the facet reads during activation and a value that is
/// not a cache entry (written by another tool) would fail every activation of that key, where the cache reads it as a
/// miss that the next set replaces; (2) <c>IPersistentState.Etag</c> cannot be set, so a set that meets another writer
/// could not take the stored ETag the conflict reports (<see cref="InconsistentStateException.StoredEtag"/>) and would
/// need an extra read per conflict; (3) the facet wraps storage failures that are not Orleans exceptions, and callers
/// get <see cref="NatsGrainStorageException"/> as it is.
/// </remarks>
[Reentrant]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The write gate lives as long as the activation; it holds no unmanaged resource.")]
internal sealed partial class CacheGrain : Grain, ICacheGrain, IGrainStateChangeParticipant
{
    /// <summary>Attempts of a set or remove that meets another writer's revision (each learns the current ETag).</summary>
    private const int MaxAttempts = 4;

    private readonly CacheGrainStore _store;
    private readonly SemaphoreSlim _writes = new(1, 1);
    private GrainId _id;
    private string _key = string.Empty;
    private CacheEntryState? _entry;
    private string? _etag;
    private long _slidingDeadlineMs;
    private ulong _revision;
    private int _inFlight;
    private ulong _pendingRevision;
    private bool _pendingResync;
    private bool _renewing;
    private Guid? _lease;
    private TaskCompletionSource? _leaseEnded;
    private bool _deactivateWhenLeaseEnds;
    private IGrainTimer? _deadlineTimer;
    private long _deadlineTimerDueMs = long.MaxValue;
    private long _absoluteDeadlineMs;

    public CacheGrain(CacheGrainStore store) => _store = store;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _id = this.GetGrainId();
        _key = _store.KeyOf(_id);
        _inFlight++;
        try
        {
            // The storage registers this activation before it reads: a change racing the read is held until the read's revision is known.
            var state = new GrainState<CacheEntryState>();
            try
            {
                await _store.ReadAsync(_id, state, cancellationToken);
            }
            catch (Exception ex) when (ex is NatsGrainStorageException or OperationCanceledException)
            {
                // The activation fails; the storage's registration ends with it.
                throw;
            }
#pragma warning disable CA1031 // Anything else is a value that is not a cache entry (written by another tool): a miss the next set replaces.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                CacheGrainStore.LogUnreadable(_store.Logger, ex, _key, _store.Options.StorageName);
                state = new GrainState<CacheEntryState>();
            }

            SetETag(state.ETag);
            var nowMs = NowMs();
            if (state.RecordExists && state.State is { Value: not null } entry && (entry.AbsoluteUnixMs == 0 || entry.AbsoluteUnixMs > nowMs))
            {
                _entry = entry;

                // The last read before this activation is unknown: the stored server deadline (window × (1 + fraction) after the last write) is the bound.
                var serverDeadline = entry.ServerDeadlineUnixMs;
                _slidingDeadlineMs = entry.SlidingMs > 0 ? Cap(serverDeadline > 0 ? serverDeadline : nowMs + entry.SlidingMs, entry.AbsoluteUnixMs) : 0;
                ArmDeadline();
            }
        }
        finally
        {
            EndOperation();
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _entry = null;
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

        var value = _entry!.Value;
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

        var value = _entry!.Value!;
        await SlideAsync(nowMs);
        if (_inFlight > 0 || _entry is not { } entry || !ReferenceEquals(entry.Value, value))
        {
            // A write is under way: the value and _revision may not belong together, so no copy.
            return new CacheEntryRead { Value = value };
        }

        var (copyMs, keepSlidingUntil) = NearCopyRule.Plan(entry.Expiration, entry.ServerDeadlineUnixMs, NowMs());
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
        var entry = CacheEntryState.Create(value, expiration, nowMs, _store.Options.SlidingRenewalFraction);
        _entry = entry;
        _slidingDeadlineMs = expiration.SlidingMs > 0 ? Cap(nowMs + expiration.SlidingMs, expiration.AbsoluteUnixMs) : 0;
        ArmDeadline();
        try
        {
            await PersistAsync(entry);
        }
        catch
        {
            // Not stored: drop the copy (storage is the truth) so no reader sees a value that is not there.
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
        _entry = null;
        _inFlight++;
        await _writes.WaitAsync();
        try
        {
            // An empty state: a retained tombstone would get the storage's configured TTL (the cache's storage deletes on clear).
            var state = new GrainState<CacheEntryState>(new CacheEntryState(), _etag);
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await _store.ClearAsync(_id, state, CancellationToken.None);
                    break;
                }
                catch (InconsistentStateException ex) when (attempt < MaxAttempts)
                {
                    // Written, removed or expired meanwhile: a remove removes whatever is there now.
                    state.ETag = ex.StoredEtag;
                }
            }

            SetETag(state.ETag);
        }
        finally
        {
            _writes.Release();
            EndOperation();
        }

        this.DeactivateOnIdle();
    }

    private bool IsLive(long nowMs)
    {
        if (_entry is not { } entry)
        {
            return false;
        }

        var expired = (entry.AbsoluteUnixMs > 0 && entry.AbsoluteUnixMs <= nowMs)
            || (_slidingDeadlineMs > 0 && _slidingDeadlineMs <= nowMs);
        if (expired)
        {
            // The value is gone for readers now; the server's marker (TTLs are whole seconds) follows and deactivates.
            _entry = null;
            return false;
        }

        return true;
    }

    /// <summary>
    /// Keeps a one-shot grain timer at the entry's absolute deadline, so the activation deactivates when the entry ends
    /// for readers: the server's marker alone comes up to a second later (TTLs are whole seconds, rounded up) plus the
    /// server's expiry sweep. Only absolute deadlines: a new activation knows them from storage, whereas the last access
    /// to a sliding entry is known only to this activation, so a sliding entry that ends unread drops its value and keeps
    /// the activation (refusing reads) until the marker. A deadline that moved later (a new set) is found when the timer
    /// fires, which re-arms it.
    /// </summary>
    private void ArmDeadline()
    {
        _absoluteDeadlineMs = _entry?.AbsoluteUnixMs ?? 0;
        var deadline = _absoluteDeadlineMs;
        if (deadline <= 0 || deadline >= _deadlineTimerDueMs)
        {
            return;
        }

        _deadlineTimerDueMs = deadline;
        var due = TimeSpan.FromMilliseconds(Math.Max(0, deadline - NowMs()));
        if (_deadlineTimer is null)
        {
            _deadlineTimer = this.RegisterGrainTimer(static (grain, _) => grain.OnDeadline(), this, new GrainTimerCreationOptions(due, Timeout.InfiniteTimeSpan));
        }
        else
        {
            _deadlineTimer.Change(due, Timeout.InfiniteTimeSpan);
        }
    }

    private Task OnDeadline()
    {
        _deadlineTimerDueMs = long.MaxValue;
        var nowMs = NowMs();
        if (IsLive(nowMs))
        {
            ArmDeadline();
        }
        else if (_absoluteDeadlineMs > 0 && _absoluteDeadlineMs <= nowMs)
        {
            // Ended now, or at a read since (which only dropped the value); a lease holder's waiters keep it until the lease ends.
            Invalidate();
        }

        return Task.CompletedTask;
    }

    private async Task SlideAsync(long nowMs)
    {
        if (_entry is not { SlidingMs: > 0 } entry)
        {
            return;
        }

        // Never earlier than a front-end copy was promised (GetForNearCache).
        _slidingDeadlineMs = Math.Max(_slidingDeadlineMs, Cap(nowMs + entry.SlidingMs, entry.AbsoluteUnixMs));
        if (_renewing || !CacheExpiration.NeedsRenewal(entry.Expiration, entry.ServerDeadlineUnixMs, nowMs))
        {
            return;
        }

        _renewing = true;
        try
        {
            await RenewAsync(entry, nowMs);
        }
        catch (InconsistentStateException)
        {
            // Written elsewhere, removed or expired in storage since this activation's revision: not ours to keep alive.
            Invalidate();
        }
        finally
        {
            _renewing = false;
        }
    }

    /// <summary>
    /// Rewrites <paramref name="current"/> with a fresh TTL, compare-and-set on the ETag this activation holds (a renewal
    /// never replaces another writer's value). Skipped when the entry was replaced or dropped while it waited to write.
    /// </summary>
    private async Task RenewAsync(CacheEntryState current, long nowMs)
    {
        _inFlight++;
        await _writes.WaitAsync();
        try
        {
            if (!ReferenceEquals(_entry, current))
            {
                return;
            }

            var renewed = CacheEntryState.Create(current.Value!, current.Expiration, nowMs, _store.Options.SlidingRenewalFraction);
            var state = new GrainState<CacheEntryState>(renewed, _etag);
            await _store.WriteAsync(_id, state, CancellationToken.None);
            SetETag(state.ETag);
            if (ReferenceEquals(_entry, current))
            {
                _entry = renewed;
            }
        }
        finally
        {
            _writes.Release();
            EndOperation();
        }
    }

    /// <summary>
    /// Writes a new entry. A set replaces whatever another writer left: on a conflict it takes the current ETag the
    /// storage reports (none for a missing, expired or removed entry) and writes again.
    /// </summary>
    private async Task PersistAsync(CacheEntryState entry)
    {
        _inFlight++;
        await _writes.WaitAsync();
        try
        {
            var state = new GrainState<CacheEntryState>(entry, _etag);
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await _store.WriteAsync(_id, state, CancellationToken.None);
                    break;
                }
                catch (InconsistentStateException ex) when (attempt < MaxAttempts)
                {
                    state.ETag = ex.StoredEtag;
                }
            }

            SetETag(state.ETag);
        }
        finally
        {
            _writes.Release();
            EndOperation();
        }
    }

    private void SetETag(string? etag)
    {
        _etag = etag;
        if (ulong.TryParse(etag, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var revision))
        {
            _revision = Math.Max(_revision, revision);
        }
    }

    /// <summary>
    /// Told by the storage (on this activation's scheduler) that the entry changed elsewhere, expired or was removed:
    /// deactivate now unless a write of this activation or a lease is under way, which decide when they end.
    /// </summary>
    public Task<bool> OnStateChangedAsync(string stateName, GrainStateChange change)
    {
        if (_inFlight == 0 && _lease is null && (change.Kind == GrainStateChangeKind.Resync || change.Revision > _revision))
        {
            _entry = null;
            return Task.FromResult(true);
        }

        OnChange(change);
        return Task.FromResult(false);
    }

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

    /// <summary>Drops the value and lets the activation go (its memory is released; the next call re-reads storage).</summary>
    private void Invalidate()
    {
        _entry = null;
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

    private static long Cap(long deadlineMs, long absoluteUnixMs) =>
        absoluteUnixMs > 0 ? Math.Min(deadlineMs, absoluteUnixMs) : deadlineMs;
}
