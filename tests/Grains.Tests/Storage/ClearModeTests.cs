using Orleans;
using Orleans.Runtime;
using Orleans.Storage;
using CacheProvider.Grains.Tests.Support;

namespace CacheProvider.Grains.Tests.Storage;

/// <summary>Delete-on-clear versus retained tombstones (contract §2.1 "Clear").</summary>
public sealed class ClearModeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Delete_on_clear_nulls_the_ETag_and_a_later_null_ETag_write_succeeds()
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var storage = host.CreateStorage(deleteStateOnClear: true);
        var id = TestIds.RandomInteger();
        var state = new GrainState<TestState1>(new TestState1 { A = "x" });
        await storage.WriteStateAsync("s", id, state);
        await storage.ClearStateAsync("s", id, state);
        Assert.Null(state.ETag);
        var read = new GrainState<TestState1>(new TestState1());
        await storage.ReadStateAsync("s", id, read);
        Assert.Null(read.ETag);
        Assert.False(read.RecordExists);
        var again = new GrainState<TestState1>(new TestState1 { A = "y" });
        await storage.WriteStateAsync("s", id, again);
        Assert.True(again.RecordExists);
    }

    [Fact]
    public async Task Retained_tombstone_is_read_back_with_its_ETag_and_blocks_a_null_ETag_write()
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var storage = host.CreateStorage(deleteStateOnClear: false);
        var id = TestIds.RandomInteger();
        var state = new GrainState<TestState1>(new TestState1 { A = "x" });
        await storage.WriteStateAsync("s", id, state);
        await storage.ClearStateAsync("s", id, state);
        Assert.NotNull(state.ETag);
        var read = new GrainState<TestState1>(new TestState1 { A = "stale" });
        await storage.ReadStateAsync("s", id, read);
        Assert.Equal(state.ETag, read.ETag);
        Assert.False(read.RecordExists);
        Assert.Equal(new TestState1(), read.State);
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("s", id, new GrainState<TestState1>(new TestState1())));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync("s", id, new GrainState<TestState1>(new TestState1())));
    }

    [Fact]
    public async Task Null_ETag_clear_of_a_never_written_key_creates_a_tombstone_when_retaining_and_nothing_when_deleting()
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var retain = host.CreateStorage(deleteStateOnClear: false);
        var delete = host.CreateStorage(deleteStateOnClear: true, o => o.Bucket = "other");
        var s1 = new GrainState<TestState1>(new TestState1());
        await retain.ClearStateAsync("s", TestIds.Integer(1), s1);
        Assert.NotNull(s1.ETag);
        var s2 = new GrainState<TestState1>(new TestState1());
        await delete.ClearStateAsync("s", TestIds.Integer(1), s2);
        Assert.Null(s2.ETag);
    }

    [Fact]
    public async Task Null_ETag_clear_of_a_live_record_fails_in_both_modes()
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        foreach (var mode in new[] { true, false })
        {
            var storage = host.CreateStorage(mode, o => o.Bucket = mode ? "del" : "keep");
            var id = TestIds.RandomInteger();
            await storage.WriteStateAsync("s", id, new GrainState<TestState1>(new TestState1()));
            await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync("s", id, new GrainState<TestState1>(new TestState1())));
        }
    }

    [Fact]
    public async Task Provider_mutates_the_callers_state_object_in_place()
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var storage = host.CreateStorage(false);
        var id = TestIds.RandomInteger();
        var state = new GrainState<TestState1>(new TestState1 { A = "mine" });
        await storage.WriteStateAsync("s", id, state);
        var holder = new GrainState<TestState1>(new TestState1 { A = "old" }, "999999") { RecordExists = false };
        var before = holder.State;
        await storage.ReadStateAsync("s", id, holder);
        Assert.NotSame(before, holder.State);
        Assert.Equal("mine", holder.State!.A);
        Assert.Equal(state.ETag, holder.ETag);
        Assert.True(holder.RecordExists);
    }

    [Fact]
    public async Task Service_ids_isolate_states_in_a_shared_bucket()
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var a = host.CreateStorage(false);
        var b = new NatsGrainStorage("nats", new NatsGrainStorageOptions { ServiceId = host.ServiceId + "x" }, host.Connection);
        var id = TestIds.Integer(7);
        await a.WriteStateAsync("s", id, new GrainState<TestState1>(new TestState1 { A = "a" }));
        var read = new GrainState<TestState1>(new TestState1());
        await b.ReadStateAsync("s", id, read);
        Assert.False(read.RecordExists);
    }

    [Fact]
    public async Task Custom_serializer_is_used_for_reads_and_writes()
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var serializer = new CountingSerializer();
        var storage = new NatsGrainStorage("nats", new NatsGrainStorageOptions { ServiceId = host.ServiceId, GrainStorageSerializer = serializer }, host.Connection);
        var id = TestIds.RandomInteger();
        var state = new GrainState<TestState1>(new TestState1 { A = "z" });
        await StorageAssert.Store_WriteRead(storage, "s", id, state);
        Assert.Equal(1, serializer.Serialized);
        Assert.Equal(1, serializer.Deserialized);
    }

    private sealed class CountingSerializer : IGrainStorageSerializer
    {
        private readonly NatsJsonGrainStorageSerializer _inner = new();

        public int Serialized { get; private set; }

        public int Deserialized { get; private set; }

        public BinaryData Serialize<T>(T? input)
        {
            Serialized++;
            return _inner.Serialize(input);
        }

        public T Deserialize<T>(BinaryData input)
        {
            Deserialized++;
            return _inner.Deserialize<T>(input);
        }
    }
}
