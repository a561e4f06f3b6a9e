using System.Collections.Concurrent;
using CacheProvider.KeyValue;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Runtime;

namespace CacheProvider.Grains.Tests.Silo;

/// <summary>A grain that registers its state with the silo's <see cref="GrainStateWatcher"/> and deactivates itself when told.</summary>
public interface IWatchedNoteGrain : IGrainWithStringKey
{
    Task<StateView> Write(string value);

    Task<StateView> Get();
}

public sealed class WatchedNoteGrain(
    [PersistentState("note", SiloFixture.StorageName)] IPersistentState<NoteState> note,
    [FromKeyedServices(SiloFixture.StorageName)] GrainStateWatcher watcher) : Grain, IWatchedNoteGrain
{
    /// <summary>Deactivation reasons by grain key, recorded in OnDeactivateAsync.</summary>
    public static readonly ConcurrentDictionary<string, string> DeactivationReasons = new(StringComparer.Ordinal);

    private readonly Guid _activationId = Guid.NewGuid();
    private GrainStateWatchRegistration? _registration;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _registration = watcher.Register("note", this.GetGrainId(), note.Etag, static (change, state) =>
        {
            var grain = (WatchedNoteGrain)state!;
            grain.GrainContext.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationRequested, $"state {change.Kind}: written elsewhere"));
        }, this);
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _registration?.Dispose();
        DeactivationReasons[this.GetPrimaryKeyString()] = reason.Description ?? string.Empty;
        return Task.CompletedTask;
    }

    public async Task<StateView> Write(string value)
    {
        note.State.Value = value;
        note.State.Version++;
        await note.WriteStateAsync();
        return Get().Result;
    }

    public Task<StateView> Get() =>
        Task.FromResult(new StateView { Value = note.State.Value, RecordExists = note.RecordExists, ETag = note.Etag, ActivationId = _activationId });
}

/// <summary>The state watcher inside a real silo: a write by another client deactivates the stale activation.</summary>
public sealed class WatcherDeactivationTests(SiloFixture fixture) : IClassFixture<SiloFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_write_by_another_storage_instance_deactivates_the_registered_activation_and_the_next_call_sees_the_new_state()
    {
        var key = Guid.NewGuid().ToString("N");
        var grain = fixture.Cluster.Client.GetGrain<IWatchedNoteGrain>(key);
        var written = await grain.Write("mine");

        // Its own write did not deactivate it.
        var same = await grain.Get();
        Assert.Equal(written.ActivationId, same.ActivationId);

        await using var other = await fixture.Server.ConnectAsync();
        var otherStorage = new NatsGrainStorage("other", new NatsGrainStorageOptions { ServiceId = fixture.ServiceId, Bucket = SiloFixture.StateBucket, Storage = KvStorage.Memory }, other);
        var theirs = new GrainState<NoteState>(new NoteState { Value = "theirs", Version = 9 }) { ETag = written.ETag, RecordExists = true };
        await otherStorage.WriteStateAsync("note", grain.GetGrainId(), theirs);

        var deadline = DateTime.UtcNow + Patience;
        while (!WatchedNoteGrain.DeactivationReasons.ContainsKey(key) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.True(WatchedNoteGrain.DeactivationReasons.TryGetValue(key, out var reason), "the stale activation was not deactivated");
        Assert.Contains("written elsewhere", reason);
        Assert.Contains(nameof(GrainStateChangeKind.WrittenElsewhere), reason);

        var next = await grain.Get();
        Assert.NotEqual(written.ActivationId, next.ActivationId);
        Assert.Equal("theirs", next.Value);
        Assert.Equal(theirs.ETag, next.ETag);
    }
}
