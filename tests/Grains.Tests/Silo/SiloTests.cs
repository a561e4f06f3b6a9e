using System.Text;
using CacheProvider.Grains.Tests.Support;
using CacheProvider.KeyValue;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Runtime;
using Orleans.Storage;

namespace CacheProvider.Grains.Tests.Silo;

/// <summary>The providers inside a real Orleans silo (InProcessTestCluster) against a real nats-server.</summary>
public sealed class SiloTests(SiloFixture fixture) : IClassFixture<SiloFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private INoteGrain NewNote() => fixture.Cluster.Client.GetGrain<INoteGrain>(Guid.NewGuid().ToString("N"));

    private NatsGrainStorage SiloStorage => fixture.SiloServices.GetRequiredKeyedService<NatsGrainStorage>(SiloFixture.StorageName);

    [Fact]
    public void Silo_start_binds_the_state_bucket_before_any_grain_call_and_keys_start_with_the_cluster_service_id()
    {
        Assert.True(fixture.StateBucketExistedAfterStart);
        Assert.Equal(fixture.ServiceId, SiloStorage.ServiceId);
        Assert.Same(SiloStorage, fixture.SiloServices.GetRequiredKeyedService<IGrainStorage>(SiloFixture.StorageName));
    }

    [Fact]
    public async Task A_grain_writes_reads_and_clears_its_state_through_the_NATS_storage_as_System_Text_Json()
    {
        var grain = NewNote();
        var written = await grain.Write("hello");
        Assert.True(written.RecordExists);
        Assert.NotNull(written.ETag);

        // The raw KV value: System.Text.Json (web defaults), although every silo registers Orleans' Newtonsoft serializer.
        Assert.IsType<JsonGrainStorageSerializer>(fixture.SiloServices.GetRequiredService<IGrainStorageSerializer>());
        var key = SiloStorage.GetStateKey("note", grain.GetGrainId());
        var bucket = await new KvContext(fixture.Connection).GetBucketAsync(SiloFixture.StateBucket);
        var raw = await bucket.GetAsync(key);
        Assert.NotNull(raw);
        Assert.Equal("""{"value":"hello","version":1}""", Encoding.UTF8.GetString(raw.Value.Span));
        Assert.Equal(written.ETag, raw.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture));

        // A new activation reads it back from NATS.
        await fixture.Cluster.DeactivateAsync(grain);
        var reread = await grain.Get();
        Assert.NotEqual(written.ActivationId, reread.ActivationId);
        Assert.Equal("hello", reread.Value);
        Assert.Equal(written.ETag, reread.ETag);
        Assert.True(reread.RecordExists);

        var cleared = await grain.Clear();
        Assert.False(cleared.RecordExists);
        Assert.Null(cleared.Value);
        await fixture.Cluster.DeactivateAsync(grain);
        var afterClear = await grain.Get();
        Assert.False(afterClear.RecordExists);
        Assert.Null(afterClear.Value);
        Assert.Equal(cleared.ETag, afterClear.ETag);

        var again = await grain.Write("again");
        Assert.True(again.RecordExists);
        Assert.NotEqual(cleared.ETag, again.ETag);
    }

    [Fact]
    public async Task A_write_after_someone_else_wrote_reaches_the_caller_as_InconsistentStateException_and_the_next_activation_sees_their_value()
    {
        var grain = NewNote();
        var first = await grain.Write("mine");
        var elsewhere = new GrainState<NoteState>(new NoteState { Value = "theirs", Version = 7 }) { ETag = first.ETag, RecordExists = true };
        await SiloStorage.WriteStateAsync("note", grain.GetGrainId(), elsewhere);

        var ex = await Assert.ThrowsAsync<InconsistentStateException>(() => grain.Write("stale"));
        Assert.Contains("ETag=" + first.ETag, ex.Message);
        Assert.Null(ex.InnerException);

        // Orleans deactivates the activation that saw the conflict; the next one reads the current value.
        var next = await grain.Get();
        Assert.NotEqual(first.ActivationId, next.ActivationId);
        Assert.Equal("theirs", next.Value);
        Assert.Equal(elsewhere.ETag, next.ETag);
    }

    [Fact]
    public async Task A_NATS_failure_reaches_the_caller_as_a_NatsGrainStorageException_naming_the_NATS_error()
    {
        var grain = NewNote();

        // Over the server's max payload (1 MiB by default): NATS.Net refuses the publish. Orleans wraps what a
        // provider throws (other than InconsistentStateException) in an OrleansException; ours survives the trip.
        var outer = await Assert.ThrowsAsync<OrleansException>(() => grain.Write(new string('x', 2 * 1024 * 1024)));
        var ex = Assert.IsType<NatsGrainStorageException>(outer.InnerException);
        Assert.Contains("WriteStateAsync failed", ex.Message);
        Assert.Contains("ProviderName=" + SiloFixture.StorageName, ex.Message);
        Assert.Contains("NATS.", ex.Message);

        // The storage and its connection still work.
        var written = await grain.Write("small");
        Assert.True(written.RecordExists);
    }

    [Fact]
    public async Task A_state_with_a_short_per_state_TTL_expires_and_reads_back_as_missing()
    {
        var grain = NewNote();
        var written = await grain.WriteShortLived("brief");
        Assert.True(written.RecordExists);
        Assert.Equal(TimeSpan.FromSeconds(1), SiloStorage.GetStateTtl<NoteState>("short"));
        Assert.Null(SiloStorage.GetStateTtl<NoteState>("note"));

        var deadline = DateTime.UtcNow + Patience;
        StateView view;
        do
        {
            await Task.Delay(250);
            view = await grain.RereadShortLived();
        }
        while (view.RecordExists && DateTime.UtcNow < deadline);

        Assert.False(view.RecordExists);
        Assert.Null(view.Value);
        Assert.Null(view.ETag);
    }

    [Fact]
    public async Task A_grain_reminder_is_stored_in_the_NATS_table_and_ticks_through_the_silo_reminder_service()
    {
        var grain = fixture.Cluster.Client.GetGrain<ITickingGrain>(Guid.NewGuid().ToString("N"));
        var table = fixture.SiloServices.GetRequiredService<IReminderTable>();
        Assert.IsType<NatsReminderTable>(table);

        await grain.Start(TimeSpan.FromSeconds(1));
        var row = Assert.Single((await table.ReadRows(grain.GetGrainId())).Reminders);
        Assert.Equal(TickingGrain.ReminderName, row.ReminderName);
        Assert.Equal(TimeSpan.FromSeconds(1), row.Period);

        var deadline = DateTime.UtcNow + Patience;
        while (await grain.Ticks() < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.True(await grain.Ticks() >= 2, "the reminder did not tick twice");
        await grain.Stop();
        Assert.Empty((await table.ReadRows(grain.GetGrainId())).Reminders);
    }

    [Fact]
    public async Task The_state_watcher_opened_by_the_silo_lifecycle_reports_a_write_by_another_storage()
    {
        var grain = NewNote();
        var written = await grain.Write("watched");
        var watcher = fixture.SiloServices.GetRequiredKeyedService<GrainStateWatcher>(SiloFixture.StorageName);
        var changes = new TaskCompletionSource<GrainStateChange>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = watcher.Register("note", grain.GetGrainId(), written.ETag, static (change, state) => ((TaskCompletionSource<GrainStateChange>)state!).TrySetResult(change), changes);

        // Another silo's storage instance (its own connection) writes the same state.
        await using var other = await fixture.Server.ConnectAsync();
        var otherStorage = new NatsGrainStorage("other", new NatsGrainStorageOptions { ServiceId = fixture.ServiceId, Bucket = SiloFixture.StateBucket, Storage = KvStorage.Memory }, other);
        await otherStorage.WriteStateAsync("note", grain.GetGrainId(), new GrainState<NoteState>(new NoteState { Value = "other" }) { ETag = written.ETag });

        var change = await changes.Task.WaitAsync(Patience);
        Assert.Equal(GrainStateChangeKind.WrittenElsewhere, change.Kind);
        Assert.Equal(SiloStorage.GetStateKey("note", grain.GetGrainId()), change.StateKey);
    }
}
