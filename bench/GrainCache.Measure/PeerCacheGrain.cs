using Orleans;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace CacheProvider.GrainCache.Measure;

/// <summary>The persisted state of a peer cache grain: the value and its expiration, as ModCaches.Orleans keeps them.</summary>
[GenerateSerializer]
public sealed class PeerCacheState
{
    [Id(0)]
    public byte[] Value { get; set; } = [];

    /// <summary>Absolute deadline, Unix ms; 0 = none.</summary>
    [Id(1)]
    public long AbsoluteUnixMs { get; set; }

    /// <summary>Sliding window, ms; 0 = none.</summary>
    [Id(2)]
    public long SlidingMs { get; set; }

    [Id(3)]
    public long LastAccessedUnixMs { get; set; }
}

/// <summary>One cache entry per grain (grain key = cache key), the shape of ModCaches.Orleans' persistent distributed cache grain.</summary>
public interface IPeerCacheOps : IGrainWithStringKey
{
    Task<byte[]?> Get();

    Task Set([Immutable] byte[] value, long absoluteUnixMs, long slidingMs);

    Task Refresh();

    Task Remove();
}

/// <summary>The peer as the bench runs it: expiry by the grain's own one-shot timer at the deadline (the strongest form).</summary>
public interface IPeerCacheGrain : IPeerCacheOps;

/// <summary>The peer exactly as ModCaches.Orleans expires entries: <c>DelayDeactivation</c> to the deadline, then idle collection.</summary>
public interface IPeerIdleCacheGrain : IPeerCacheOps;

/// <summary>
/// A "ModCaches-style persisted cache grain" (ModCaches.Orleans is not a served package; this follows its
/// PersistentDistributedCacheGrain): the value lives in the activation's memory and in <see cref="IPersistentState{T}"/>
/// on Orleans' Redis grain storage. A set writes the state and delays deactivation to the deadline; a read of an expired
/// or missing entry clears the state and deactivates; deactivation clears an expired entry's state. Redis never expires
/// the record by itself (Orleans' storages have no per-entry TTL). Unlike ModCaches, a read of a non-sliding entry does not
/// write the state (ModCaches writes LastAccessed on every Get): the peer gets its best case.
/// </summary>
public abstract class PeerCacheGrainBase(IPersistentState<PeerCacheState> state, TimeProvider time) : Grain
{
    private IGrainTimer? _expiry;
    private bool _cleared;

    /// <summary>Whether a one-shot grain timer at the deadline clears the state and deactivates (else idle collection does, later).</summary>
    protected abstract bool ExpireByTimer { get; }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.RecordExists && Live(NowMs()) is { } remaining)
        {
            Arm(remaining);
        }

        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (!_cleared && state.RecordExists && Live(NowMs()) is null)
        {
            await ClearAsync(cancellationToken);
        }
    }

    public async Task<byte[]?> Get()
    {
        var nowMs = NowMs();
        if (!state.RecordExists || Live(nowMs) is not { } remaining)
        {
            await Remove();
            return null;
        }

        if (state.State.SlidingMs > 0)
        {
            state.State.LastAccessedUnixMs = nowMs;
            Arm(Live(nowMs) ?? remaining);
            await state.WriteStateAsync();
            _cleared = false;
        }

        return state.State.Value;
    }

    public async Task Set(byte[] value, long absoluteUnixMs, long slidingMs)
    {
        var nowMs = NowMs();
        state.State = new PeerCacheState { Value = value, AbsoluteUnixMs = absoluteUnixMs, SlidingMs = slidingMs, LastAccessedUnixMs = nowMs };
        if (Live(nowMs) is { } remaining)
        {
            Arm(remaining);
        }

        await state.WriteStateAsync();
        _cleared = false;
    }

    public async Task Refresh()
    {
        if (state.RecordExists && state.State.SlidingMs > 0 && Live(NowMs()) is not null)
        {
            await Get();
        }
    }

    public async Task Remove()
    {
        DeactivateOnIdle();
        await ClearAsync(CancellationToken.None);
    }

    /// <summary>Time left (null = expired); <see cref="TimeSpan.MaxValue"/> for an entry without expiration.</summary>
    private TimeSpan? Live(long nowMs)
    {
        var s = state.State;
        var deadline = long.MaxValue;
        if (s.AbsoluteUnixMs > 0)
        {
            deadline = s.AbsoluteUnixMs;
        }

        if (s.SlidingMs > 0)
        {
            deadline = Math.Min(deadline, s.LastAccessedUnixMs + s.SlidingMs);
        }

        return deadline == long.MaxValue ? TimeSpan.MaxValue : deadline > nowMs ? TimeSpan.FromMilliseconds(deadline - nowMs) : null;
    }

    private void Arm(TimeSpan remaining)
    {
        if (remaining == TimeSpan.MaxValue)
        {
            return;
        }

        // ModCaches: keep the activation at least until the deadline.
        DelayDeactivation(remaining);
        if (ExpireByTimer)
        {
            _expiry?.Dispose();
            _expiry = this.RegisterGrainTimer(OnDeadlineAsync, new GrainTimerCreationOptions { DueTime = remaining, Period = Timeout.InfiniteTimeSpan });
        }
    }

    private async Task OnDeadlineAsync(CancellationToken cancellationToken)
    {
        if (Live(NowMs()) is { } remaining)
        {
            Arm(remaining); // slid meanwhile
            return;
        }

        DeactivateOnIdle();
        await ClearAsync(cancellationToken);
    }

    private async Task ClearAsync(CancellationToken cancellationToken)
    {
        if (state.RecordExists)
        {
            await state.ClearStateAsync(cancellationToken);
        }

        _cleared = true;
    }

    private long NowMs() => time.GetUtcNow().ToUnixTimeMilliseconds();
}

public sealed class PeerCacheGrain([PersistentState("entry", BenchSetup.PeerStorage)] IPersistentState<PeerCacheState> state)
    : PeerCacheGrainBase(state, TimeProvider.System), IPeerCacheGrain
{
    protected override bool ExpireByTimer => true;
}

public sealed class PeerIdleCacheGrain([PersistentState("entry", BenchSetup.PeerStorage)] IPersistentState<PeerCacheState> state)
    : PeerCacheGrainBase(state, TimeProvider.System), IPeerIdleCacheGrain
{
    protected override bool ExpireByTimer => false;
}
