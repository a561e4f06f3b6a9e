using Orleans;
using Orleans.Runtime;

namespace CacheProvider.Grains.Tests.Deactivation;

/// <summary>One nats-server and one silo shared by <see cref="StateChangeDeactivationTests"/>.</summary>
public sealed class OneSiloFixture : IAsyncLifetime
{
    private NatsServer? _server;

    public DeactivationCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _server = await NatsServer.StartAsync();
        Cluster = await DeactivationCluster.StartAsync(_server);
    }

    public async Task DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await _server!.DisposeAsync();
    }
}

/// <summary>
/// Grains without a line of watcher code, in a real silo: the storage deactivates an activation when the state it read
/// expires, is removed or is written by someone else, and says which in the reason; opt-out, hook and the read race.
/// </summary>
public sealed class StateChangeDeactivationTests(OneSiloFixture fixture) : IClassFixture<OneSiloFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private IGrainFactory Grains => fixture.Cluster.Cluster.Client;

    private static string NewKey() => Guid.NewGuid().ToString("N");

    [Fact]
    public async Task An_activation_is_deactivated_when_its_state_expires_and_the_reason_says_expired_and_the_revision()
    {
        var key = NewKey();
        var grain = Grains.GetGrain<IExpiringNoteGrain>(key);
        var written = await grain.Write("soon gone");

        var reason = await DeactivationLog.WaitAsync(key, Patience);
        Assert.Contains("ApplicationRequested", reason);
        Assert.Contains($"state '{DeactivationCluster.ExpiringState}' expired", reason);
        Assert.Contains("GrainStateChangeKind.Expired", reason);
        Assert.Matches(@"revision [1-9][0-9]*\)", reason);

        var next = await grain.Get();
        Assert.NotEqual(written.ActivationId, next.ActivationId);
        Assert.False(next.RecordExists);
    }

    [Fact]
    public async Task Own_writes_do_not_deactivate_the_activation()
    {
        var key = NewKey();
        var grain = Grains.GetGrain<IWatchedNoteGrain>(key);
        var first = await grain.Write("one");
        await grain.Write("two");
        await Task.Delay(TimeSpan.FromSeconds(1));
        var third = await grain.Write("three");

        Assert.Equal(first.ActivationId, third.ActivationId);
        Assert.False(DeactivationLog.TryGet(key, out _));
    }

    [Fact]
    public async Task A_write_by_another_storage_instance_deactivates_the_activation_and_the_next_call_sees_it()
    {
        var key = NewKey();
        var grain = Grains.GetGrain<IWatchedNoteGrain>(key);
        var written = await grain.Write("mine");
        var other = await fixture.Cluster.OtherStorageAsync();
        var theirs = new GrainState<Silo.NoteState>(new Silo.NoteState { Value = "theirs", Version = 9 }) { ETag = written.ETag, RecordExists = true };
        await other.WriteStateAsync(DeactivationCluster.WatchedState, grain.GetGrainId(), theirs);

        var reason = await DeactivationLog.WaitAsync(key, Patience);
        Assert.Contains($"state '{DeactivationCluster.WatchedState}' was written elsewhere", reason);
        Assert.Contains($"revision {theirs.ETag})", reason);

        var next = await grain.Get();
        Assert.NotEqual(written.ActivationId, next.ActivationId);
        Assert.Equal("theirs", next.Value);
        Assert.Equal(theirs.ETag, next.ETag);
    }

    [Fact]
    public async Task A_removal_by_someone_else_deactivates_the_activation()
    {
        var key = NewKey();
        var grain = Grains.GetGrain<IWatchedNoteGrain>(key);
        var written = await grain.Write("to be removed");
        var other = await fixture.Cluster.OtherStorageAsync();
        await other.ClearStateAsync(DeactivationCluster.WatchedState, grain.GetGrainId(), new GrainState<Silo.NoteState>(new Silo.NoteState()) { ETag = written.ETag, RecordExists = true });

        var reason = await DeactivationLog.WaitAsync(key, Patience);
        Assert.Contains($"state '{DeactivationCluster.WatchedState}' was removed", reason);
        Assert.Contains("GrainStateChangeKind.Removed", reason);
        Assert.False((await grain.Get()).RecordExists);
    }

    [Fact]
    public async Task A_grain_class_with_the_opt_out_attribute_keeps_its_activation_when_its_state_expires()
    {
        var key = NewKey();
        var grain = Grains.GetGrain<IKeptNoteGrain>(key);
        var written = await grain.Write("kept");

        // Past the TTL and the server's marker (TTLs are whole seconds), with room for a loaded box.
        await Task.Delay(DeactivationCluster.ExpiringTtl + TimeSpan.FromSeconds(4));
        var later = await grain.Get();
        Assert.Equal(written.ActivationId, later.ActivationId);
        Assert.Equal("kept", later.Value);
        Assert.False(DeactivationLog.TryGet(key, out _));

        // The control: the same state on a grain class without the attribute goes.
        var control = NewKey();
        await Grains.GetGrain<IExpiringNoteGrain>(control).Write("not kept");
        Assert.Contains("expired", await DeactivationLog.WaitAsync(control, Patience));
    }

    [Fact]
    public async Task A_grain_with_the_hook_is_told_on_its_own_scheduler_before_it_is_deactivated()
    {
        var key = NewKey();
        var grain = Grains.GetGrain<IHookedNoteGrain>(key);
        var written = await grain.Write("hooked");

        var reason = await DeactivationLog.WaitAsync(key, Patience);
        Assert.True(HookedNoteGrain.Told.TryGetValue(key, out var told), "the hook was not called");
        Assert.StartsWith($"{DeactivationCluster.ExpiringState} Expired ", told);
        Assert.EndsWith("on-grain=True", told);
        Assert.Contains("expired", reason);
        Assert.NotEqual(written.ActivationId, (await grain.Get()).ActivationId);
    }

    [Fact]
    public async Task A_state_that_expires_during_a_slow_activation_still_deactivates_it()
    {
        var key = NewKey();
        var grain = Grains.GetGrain<ISlowNoteGrain>(key);

        // Written elsewhere with a 2 s TTL; the activation reads it at once and then spends 5 s in OnActivateAsync, so
        // the expiry marker lands after the read and before the activation's first call.
        var other = await fixture.Cluster.OtherStorageAsync();
        var stored = new GrainState<Silo.NoteState>(new Silo.NoteState { Value = "racing" });
        await other.WriteStateAsync(DeactivationCluster.ExpiringState, grain.GetGrainId(), stored);
        var first = await grain.Get();

        // The activation was told during OnActivateAsync (Orleans then deactivates it without OnDeactivateAsync, the
        // grain never having been valid, and the call goes to a fresh activation), or right after it: either way no
        // call may keep seeing the expired copy.
        var deadline = DateTime.UtcNow + Patience;
        var latest = first;
        while (latest.RecordExists && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            latest = await grain.Get();
        }

        Assert.False(latest.RecordExists, "the activation kept serving a state that expired while it activated");
        Assert.Null(latest.Value);
    }
}
