using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Runtime;

namespace CacheProvider.Grains.Measure;

/// <summary>The state of the measured grains (about 250 bytes as JSON).</summary>
[GenerateSerializer]
public sealed class Payload
{
    [Id(0)]
    public string Name { get; set; } = string.Empty;

    [Id(1)]
    public string Data { get; set; } = string.Empty;

    [Id(2)]
    public long Counter { get; set; }
}

/// <summary>A grain whose every call goes to its storage: Write = WriteStateAsync, Read = ReadStateAsync.</summary>
public interface IStateGrain : IGrainWithIntegerKey
{
    Task Write();

    Task<long> Read();
}

public interface INatsStateGrain : IStateGrain;

public interface IRedisStateGrain : IStateGrain;

public interface IMemoryStateGrain : IStateGrain;

public abstract class StateGrain(IPersistentState<Payload> state) : Grain
{
    public async Task Write()
    {
        if (string.IsNullOrEmpty(state.State.Data))
        {
            state.State.Name = "grain " + this.GetPrimaryKeyLong();
            state.State.Data = new string('x', 200);
        }

        state.State.Counter++;
        await state.WriteStateAsync();
    }

    public async Task<long> Read()
    {
        await state.ReadStateAsync();
        return state.State.Counter;
    }
}

public sealed class NatsStateGrain([PersistentState("state", Bench.NatsStorage)] IPersistentState<Payload> state) : StateGrain(state), INatsStateGrain;

public sealed class RedisStateGrain([PersistentState("state", Bench.RedisStorage)] IPersistentState<Payload> state) : StateGrain(state), IRedisStateGrain;

public sealed class MemoryStateGrain([PersistentState("state", Bench.MemoryStorage)] IPersistentState<Payload> state) : StateGrain(state), IMemoryStateGrain;

/// <summary>
/// A grain whose state has a 2 s per-state TTL on our storage and no watcher code: the storage deactivates it when the
/// state expires. <see cref="Start"/> notes the state's deadline (the KV entry's creation + TTL: measurement, not
/// deactivation code) and OnDeactivateAsync records the time from that deadline to the deactivation.
/// </summary>
public interface IExpiringGrain : IGrainWithIntegerKey
{
    Task<DateTimeOffset> Start();
}

public sealed class ExpiringGrain([PersistentState(Bench.ExpiringState, Bench.NatsStorage)] IPersistentState<Payload> state) : Grain, IExpiringGrain
{
    private DateTimeOffset? _deadline;

    public async Task<DateTimeOffset> Start()
    {
        state.State.Name = "expiring " + this.GetPrimaryKeyLong();
        await state.WriteStateAsync();
        var storage = ServiceProvider.GetRequiredKeyedService<NatsGrainStorage>(Bench.NatsStorage);
        var bucket = await storage.GetBucketAsync(CancellationToken.None);
        var key = storage.GetStateKey(Bench.ExpiringState, this.GetGrainId());
        var entry = await bucket.GetLastAsync(key) ?? throw new InvalidOperationException("state not found after write: " + key);
        _deadline = entry.ExpiresAt ?? throw new InvalidOperationException("state has no TTL: " + key);
        return _deadline.Value;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (reason.Description?.Contains("expired", StringComparison.Ordinal) == true && _deadline is { } deadline)
        {
            ExpiryLog.Record(this.GetPrimaryKeyLong(), (DateTimeOffset.UtcNow - deadline).TotalMilliseconds);
        }

        return base.OnDeactivateAsync(reason, cancellationToken);
    }
}

/// <summary>Grains for the memory-per-activation line: each writes a long-lived TTL'd state once and stays active.</summary>
public interface IMemoryProbeGrain : IGrainWithIntegerKey
{
    Task Start();
}

public interface IAutoWatchedGrain : IMemoryProbeGrain;

public interface IManuallyWatchedGrain : IMemoryProbeGrain;

public interface IUnwatchedGrain : IMemoryProbeGrain;

/// <summary>Registered by the storage (no grain code).</summary>
public sealed class AutoWatchedGrain([PersistentState(Bench.ProbeState, Bench.NatsStorage)] IPersistentState<Payload> state) : Grain, IAutoWatchedGrain
{
    public Task Start()
    {
        state.State.Counter++;
        return state.WriteStateAsync();
    }
}

/// <summary>
/// Before this change (main): the grain registers with the storage's watcher itself, as the sample did. Its state is
/// the same but named for no automatic deactivation (a class attribute would add a component map to the activation).
/// </summary>
public sealed class ManuallyWatchedGrain([PersistentState(Bench.UnwatchedProbeState, Bench.NatsStorage)] IPersistentState<Payload> state) : Grain, IManuallyWatchedGrain
{
    private GrainStateWatchRegistration? _registration;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var watcher = ServiceProvider.GetRequiredKeyedService<GrainStateWatcher>(Bench.NatsStorage);
        _registration = watcher.Register(Bench.UnwatchedProbeState, this.GetGrainId(), state.Etag, static (change, context) =>
            ((IGrainContext)context!).Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationRequested, "state " + change.Kind)), GrainContext);
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _registration?.Dispose();
        return Task.CompletedTask;
    }

    public Task Start()
    {
        state.State.Counter++;
        return state.WriteStateAsync();
    }
}

/// <summary>The same grain and state, not watched at all (the baseline both are measured against).</summary>
public sealed class UnwatchedGrain([PersistentState(Bench.UnwatchedProbeState, Bench.NatsStorage)] IPersistentState<Payload> state) : Grain, IUnwatchedGrain
{
    public Task Start()
    {
        state.State.Counter++;
        return state.WriteStateAsync();
    }
}

/// <summary>Deadline-to-deactivation latencies recorded by <see cref="ExpiringGrain"/> (one silo, so a static is enough).</summary>
public static class ExpiryLog
{
    private static readonly ConcurrentDictionary<long, double> Latencies = new();

    public static int Count => Latencies.Count;

    public static void Record(long key, double milliseconds) => Latencies.TryAdd(key, milliseconds);

    public static double[] Sorted() => [.. Latencies.Values.Order()];

    public static void Clear() => Latencies.Clear();
}
