using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Runtime;

namespace CacheProvider.Grains.Tests.Deactivation;

/// <summary>
/// Grains with no watcher code at all: the storage deactivates them. <c>expiring</c> has a 2 s TTL (watched by default),
/// <c>watched</c> has none and is watched because the storage options name it.
/// </summary>
public interface INoteGrain : IGrainWithStringKey
{
    Task<Silo.StateView> Write(string value);

    Task<Silo.StateView> Get();

    Task<string> Where();
}

public interface IExpiringNoteGrain : INoteGrain;

public interface IWatchedNoteGrain : INoteGrain;

public interface IKeptNoteGrain : INoteGrain;

public interface IHookedNoteGrain : INoteGrain;

public interface ISlowNoteGrain : INoteGrain;

/// <summary>Deactivation reasons by grain key (keys are unique per test), recorded in OnDeactivateAsync.</summary>
public static class DeactivationLog
{
    private static readonly ConcurrentDictionary<string, string> Reasons = new(StringComparer.Ordinal);

    public static int Count => Reasons.Count;

    public static void Record(string key, DeactivationReason reason) => Reasons[key] = $"{reason.ReasonCode}: {reason.Description}";

    public static bool TryGet(string key, out string reason) => Reasons.TryGetValue(key, out reason!);

    public static async Task<string> WaitAsync(string key, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (DateTime.UtcNow < deadline)
        {
            if (Reasons.TryGetValue(key, out var reason))
            {
                return reason;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"grain {key} was not deactivated within {patience}");
    }

    /// <summary>How many of <paramref name="keys"/> were deactivated with a reason containing <paramref name="text"/>.</summary>
    public static int CountMatching(IEnumerable<string> keys, string text) =>
        keys.Count(k => Reasons.TryGetValue(k, out var r) && r.Contains(text, StringComparison.Ordinal));
}

public abstract class NoteGrainBase(IPersistentState<Silo.NoteState> note) : Grain, INoteGrain
{
    private readonly Guid _activationId = Guid.NewGuid();

    public async Task<Silo.StateView> Write(string value)
    {
        note.State.Value = value;
        note.State.Version++;
        await note.WriteStateAsync();
        return await Get();
    }

    public Task<Silo.StateView> Get() =>
        Task.FromResult(new Silo.StateView { Value = note.State.Value, RecordExists = note.RecordExists, ETag = note.Etag, ActivationId = _activationId });

    public Task<string> Where() => Task.FromResult(RuntimeIdentity);

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        DeactivationLog.Record(this.GetPrimaryKeyString(), reason);
        return Task.CompletedTask;
    }
}

public sealed class ExpiringNoteGrain([PersistentState(DeactivationCluster.ExpiringState, DeactivationCluster.StorageName)] IPersistentState<Silo.NoteState> note)
    : NoteGrainBase(note), IExpiringNoteGrain;

public sealed class WatchedNoteGrain([PersistentState(DeactivationCluster.WatchedState, DeactivationCluster.StorageName)] IPersistentState<Silo.NoteState> note)
    : NoteGrainBase(note), IWatchedNoteGrain;

[KeepActivationOnStateChange]
public sealed class KeptNoteGrain([PersistentState(DeactivationCluster.ExpiringState, DeactivationCluster.StorageName)] IPersistentState<Silo.NoteState> note)
    : NoteGrainBase(note), IKeptNoteGrain;

/// <summary>Takes the optional hook: records what it was told, and what its state looked like then.</summary>
public sealed class HookedNoteGrain([PersistentState(DeactivationCluster.ExpiringState, DeactivationCluster.StorageName)] IPersistentState<Silo.NoteState> note)
    : NoteGrainBase(note), IHookedNoteGrain, IGrainStateChangeParticipant
{
    public static readonly ConcurrentDictionary<string, string> Told = new(StringComparer.Ordinal);

    public Task<bool> OnStateChangedAsync(string stateName, GrainStateChange change)
    {
        // Runs on the activation's scheduler: the grain's own context is current.
        var onGrain = ServiceProvider.GetRequiredService<IGrainContextAccessor>().GrainContext?.GrainId == this.GetGrainId();
        Told[this.GetPrimaryKeyString()] = $"{stateName} {change.Kind} {change.Revision} on-grain={onGrain}";
        return Task.FromResult(true);
    }
}

/// <summary>Its activation takes <see cref="ActivationDelay"/> after its state was read.</summary>
public sealed class SlowNoteGrain([PersistentState(DeactivationCluster.ExpiringState, DeactivationCluster.StorageName)] IPersistentState<Silo.NoteState> note)
    : NoteGrainBase(note), ISlowNoteGrain
{
    public static readonly TimeSpan ActivationDelay = TimeSpan.FromSeconds(5);

    public override Task OnActivateAsync(CancellationToken cancellationToken) => Task.Delay(ActivationDelay, CancellationToken.None);
}
