using Orleans;
using Orleans.Runtime;
using Orleans.Storage;
using CacheProvider.Grains.Tests.Support;

namespace CacheProvider.Grains.Tests.Storage;

/// <summary>Orleans.Persistence.TestKit GrainStorageTestRunner (contract §3.1), every case, against a real server.</summary>
public abstract class GrainStorageTestRunnerTests(ITestOutputHelper output, bool deleteStateOnClear)
{
    private const string StateName = "TestGrain";

    private async Task<(GrainsTestHost Host, NatsGrainStorage Storage)> StartAsync()
    {
        var host = await GrainsTestHost.StartAsync(output);
        return (host, host.CreateStorage(deleteStateOnClear));
    }

    [Fact] // 1
    public async Task PersistenceStorage_WriteReadIdCyrillic()
    {
        var (host, storage) = await StartAsync();
        await using var _ = host;
        var id = TestIds.Integer(0);
        Assert.Equal("my-grain-type/0", id.ToString());
        var state = new GrainState<TestState1>(new TestState1 { A = "Привет, мир" });
        var read = await StorageAssert.Store_WriteRead(storage, StateName, id, state);
        Assert.Equal("Привет, мир", read.State!.A);
    }

    [Fact] // 2
    public async Task PersistenceStorage_WriteDuplicateFailsWithInconsistentStateException()
    {
        var (host, storage) = await StartAsync();
        await using var _ = host;
        var id = TestIds.RandomInteger();
        var state = new GrainState<TestState1>(new TestState1());
        await StorageAssert.Store_WriteRead(storage, StateName, id, state);
        state.ETag = null;
        var ex = await Assert.ThrowsAnyAsync<InconsistentStateException>(() => StorageAssert.Store_WriteRead(storage, StateName, id, state));
        Assert.IsAssignableFrom<InconsistentStateException>(ex);
    }

    [Fact] // 3
    public async Task PersistenceStorage_WriteInconsistentFailsWithInconsistentStateException()
    {
        var (host, storage) = await StartAsync();
        await using var _ = host;
        var id = TestIds.RandomInteger();
        var state = new GrainState<TestState1>(new TestState1 { A = "initial", B = 1, C = 2 });
        await storage.WriteStateAsync(StateName, id, state);
        var e1 = state.ETag;
        state.State = new TestState1 { A = "latest", B = 3, C = 4 };
        await storage.WriteStateAsync(StateName, id, state);
        var e2 = state.ETag;
        var stale = new GrainState<TestState1>(new TestState1 { A = "stale", B = 5, C = 6 }, e1) { RecordExists = true };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, id, stale));
        var read = new GrainState<TestState1>(new TestState1());
        await storage.ReadStateAsync(StateName, id, read);
        Assert.True(read.RecordExists);
        Assert.Equal(new TestState1 { A = "latest", B = 3, C = 4 }, read.State);
        Assert.Equal(e2, read.ETag);
    }

    [Fact] // 4
    public async Task PersistenceStorage_WriteReadWriteReadStatesInParallel()
    {
        var (host, storage) = await StartAsync();
        await using var _ = host;
        var grains = new List<(GrainId Id, GrainState<TestState1> State)>();
        for (var i = 33900; i < 33900 + 100; i++)
        {
            var id = TestIds.String($"Parallel-{Guid.NewGuid():N}-{i}");
            var state = new GrainState<TestState1>(new TestState1 { A = i.ToString(), B = i });
            Assert.Null(state.ETag);
            await StorageAssert.Store_WriteRead(storage, StateName, id, state);
            Assert.NotNull(state.ETag);
            grains.Add((id, state));
        }

        await Parallel.ForEachAsync(grains, new ParallelOptions { MaxDegreeOfParallelism = 3 * Environment.ProcessorCount }, async (g, _) =>
        {
            for (var j = 0; j < 10; j++)
            {
                var before = g.State.ETag;
                g.State.State = g.State.State! with { C = j };
                await StorageAssert.Store_WriteRead(storage, StateName, g.Id, g.State);
                Assert.NotEqual(before, g.State.ETag);
            }
        });
    }

    [Fact] // 5
    public async Task PersistenceStorage_ReadNonExistentState()
    {
        var (host, storage) = await StartAsync();
        await using var _ = host;
        var state = new GrainState<TestState1>(new TestState1 { A = "stale", B = 1, C = 2 }) { RecordExists = true };
        await storage.ReadStateAsync(StateName, TestIds.RandomInteger(), state);
        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.Equal(new TestState1(), state.State);
    }

    [Fact] // 6
    public async Task PersistenceStorage_WriteClearWrite()
    {
        var (host, storage) = await StartAsync();
        await using var _ = host;
        var id = TestIds.RandomInteger();
        var state = new GrainState<TestState1>(new TestState1 { A = "First", B = 1 });
        await storage.WriteStateAsync(StateName, id, state);
        var e1 = state.ETag;
        Assert.NotNull(e1);
        Assert.True(state.RecordExists);
        await storage.ClearStateAsync(StateName, id, state);
        var ec = state.ETag;
        Assert.NotEqual(e1, ec);
        Assert.False(state.RecordExists);
        state.State = new TestState1 { A = "Second", B = 2 };
        await storage.WriteStateAsync(StateName, id, state);
        Assert.NotEqual(ec, state.ETag);
        Assert.True(state.RecordExists);
        var read = new GrainState<TestState1>(new TestState1());
        await storage.ReadStateAsync(StateName, id, read);
        Assert.Equal("Second", read.State!.A);
        Assert.Equal(2, read.State.B);
    }

    [Fact] // 7
    public async Task PersistenceStorage_WriteClearRead()
    {
        var (host, storage) = await StartAsync();
        await using var _ = host;
        var id = TestIds.RandomInteger();
        var state = new GrainState<TestState1>(new TestState1 { A = "Original", B = 42, C = 100 });
        await storage.WriteStateAsync(StateName, id, state);
        var e1 = state.ETag;
        await storage.ClearStateAsync(StateName, id, state);
        Assert.NotEqual(e1, state.ETag);
        Assert.False(state.RecordExists);
        var fresh = new GrainState<TestState1>(new TestState1(), state.ETag);
        await storage.WriteStateAsync(StateName, id, fresh);
        Assert.True(fresh.RecordExists);
        var read = new GrainState<TestState1>(new TestState1());
        await storage.ReadStateAsync(StateName, id, read);
        Assert.True(read.RecordExists);
        Assert.Equal(new TestState1(), read.State);
    }

    [Fact] // 8
    public async Task PersistenceStorage_WriteRead_StringKey()
    {
        var (host, storage) = await StartAsync();
        await using var _ = host;
        var id = TestIds.String($"StringKey-{Guid.NewGuid()}");
        var state = new GrainState<TestState1>(new TestState1 { A = "TestString", B = 123 });
        await StorageAssert.Store_WriteRead(storage, StateName, id, state);
        var read = new GrainState<TestState1>(new TestState1());
        await storage.ReadStateAsync(StateName, id, read);
        Assert.Equal(state.State, read.State);
        Assert.True(read.RecordExists);
    }

    [Fact] // 9
    public async Task PersistenceStorage_WriteRead_IntegerKey()
    {
        var (host, storage) = await StartAsync();
        await using var _ = host;
        var key = Random.Shared.NextInt64();
        var id = TestIds.Integer(key);
        var state = new GrainState<TestState1>(new TestState1 { A = "TestInteger", B = 456, C = key });
        await StorageAssert.Store_WriteRead(storage, StateName, id, state);
        var read = new GrainState<TestState1>(new TestState1());
        await storage.ReadStateAsync(StateName, id, read);
        Assert.Equal(state.State, read.State);
        Assert.True(read.RecordExists);
    }

    [Fact] // 10
    public async Task PersistenceStorage_ETagChangesOnWrite()
    {
        var (host, storage) = await StartAsync();
        await using var _ = host;
        var id = TestIds.RandomInteger();
        var state = new GrainState<TestState1>(new TestState1());
        var etags = new List<string?>();
        foreach (var a in new[] { "one", "two", "three" })
        {
            state.State = state.State! with { A = a };
            await storage.WriteStateAsync(StateName, id, state);
            etags.Add(state.ETag);
        }

        Assert.All(etags, Assert.NotNull);
        Assert.Equal(3, etags.Distinct().Count());
    }

    [Fact] // 11
    public async Task PersistenceStorage_ClearBeforeWrite()
    {
        var (host, storage) = await StartAsync();
        await using var _ = host;
        var state = new GrainState<TestState1>(new TestState1 { A = "stale", B = 1, C = 2 }) { RecordExists = true };
        await storage.ClearStateAsync(StateName, TestIds.RandomInteger(), state);
        Assert.False(state.RecordExists);
        Assert.Equal(new TestState1(), state.State);
    }

    [Fact] // 12
    public async Task PersistenceStorage_ClearStateDoesNotNullifyState()
    {
        var (host, storage) = await StartAsync();
        await using var _ = host;
        var id = TestIds.RandomInteger();
        var state = new GrainState<TestState1>(new TestState1 { A = "x" });
        await storage.WriteStateAsync(StateName, id, state);
        await storage.ClearStateAsync(StateName, id, state);
        Assert.NotNull(state.State);
        Assert.False(state.RecordExists);
    }

    [Fact] // 13
    public async Task PersistenceStorage_ClearUpdatesETag()
    {
        var (host, storage) = await StartAsync();
        await using var _ = host;
        var id = TestIds.RandomInteger();
        var state = new GrainState<TestState1>(new TestState1 { A = "x" });
        await storage.WriteStateAsync(StateName, id, state);
        var e = state.ETag;
        Assert.NotNull(e);
        await storage.ClearStateAsync(StateName, id, state);
        Assert.NotEqual(e, state.ETag);
        Assert.False(state.RecordExists);
    }

    [Fact] // 14
    public async Task PersistenceStorage_ReadAfterClear()
    {
        var (host, storage) = await StartAsync();
        await using var _ = host;
        var id = TestIds.RandomInteger();
        var state = new GrainState<TestState1>(new TestState1 { A = "x" });
        await storage.WriteStateAsync(StateName, id, state);
        await storage.ClearStateAsync(StateName, id, state);
        var read = new GrainState<TestState1>(new TestState1());
        await storage.ReadStateAsync(StateName, id, read);
        Assert.False(read.RecordExists);
        Assert.NotNull(read.State);
        Assert.Equal(state.ETag, read.ETag);
    }

    [Fact] // 15
    public async Task PersistenceStorage_MultipleClearOperations()
    {
        var (host, storage) = await StartAsync();
        await using var _ = host;
        var id = TestIds.RandomInteger();
        var state = new GrainState<TestState1>(new TestState1 { A = "x" });
        await storage.WriteStateAsync(StateName, id, state);
        await storage.ClearStateAsync(StateName, id, state);
        await storage.ClearStateAsync(StateName, id, state);
        Assert.False(state.RecordExists);
        Assert.NotNull(state.State);
    }

    [Fact] // 16
    public async Task PersistenceStorage_ReadNonExistentStateHasNonNullState()
    {
        var (host, storage) = await StartAsync();
        await using var _ = host;
        var state = new GrainState<TestState1>();
        await storage.ReadStateAsync(StateName, TestIds.RandomInteger(), state);
        Assert.False(state.RecordExists);
        Assert.NotNull(state.State);
        Assert.Null(state.ETag);
    }

    [Fact] // 17
    public async Task PersistenceStorage_StateNamesUseIndependentRecords()
    {
        var (host, storage) = await StartAsync();
        await using var _ = host;
        var id = GrainId.Create("test-grain", Guid.NewGuid().ToString("N"));
        var first = new GrainState<TestState1>(new TestState1 { A = "first", B = 1, C = 2 });
        var second = new GrainState<TestState1>(new TestState1 { A = "second", B = 3, C = 4 });
        await storage.WriteStateAsync("first-state", id, first);
        await storage.WriteStateAsync("second-state", id, second);
        var r1 = new GrainState<TestState1>(new TestState1());
        var r2 = new GrainState<TestState1>(new TestState1());
        await storage.ReadStateAsync("first-state", id, r1);
        await storage.ReadStateAsync("second-state", id, r2);
        Assert.Equal(first.State, r1.State);
        Assert.Equal(second.State, r2.State);
        Assert.NotEqual(r1.State, r2.State);
    }

    [Fact] // 18
    public async Task PersistenceStorage_ClearInconsistentFailsWithInconsistentStateException()
    {
        var (host, storage) = await StartAsync();
        await using var _ = host;
        var id = TestIds.RandomInteger();
        var state = new GrainState<TestState1>(new TestState1 { A = "initial" });
        await storage.WriteStateAsync(StateName, id, state);
        var e1 = state.ETag;
        state.State = new TestState1 { A = "latest", B = 3, C = 4 };
        await storage.WriteStateAsync(StateName, id, state);
        var e2 = state.ETag;
        var stale = new GrainState<TestState1>(new TestState1(), e1) { RecordExists = true };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync(StateName, id, stale));
        var read = new GrainState<TestState1>(new TestState1());
        await storage.ReadStateAsync(StateName, id, read);
        Assert.True(read.RecordExists);
        Assert.Equal(new TestState1 { A = "latest", B = 3, C = 4 }, read.State);
        Assert.Equal(e2, read.ETag);
    }

    [Fact] // 19
    public async Task PersistenceStorage_WriteReadClearReadCycle()
    {
        var (host, storage) = await StartAsync();
        await using var _ = host;
        var id = TestIds.RandomInteger();
        var state = new GrainState<TestState1>(new TestState1 { A = "InitialValue", B = 99 });
        await storage.WriteStateAsync(StateName, id, state);
        var read = new GrainState<TestState1>(new TestState1());
        await storage.ReadStateAsync(StateName, id, read);
        Assert.True(read.RecordExists);
        Assert.Equal(state.State, read.State);
        Assert.Equal(state.ETag, read.ETag);
        await storage.ClearStateAsync(StateName, id, state);
        var after = new GrainState<TestState1>(new TestState1());
        await storage.ReadStateAsync(StateName, id, after);
        Assert.False(after.RecordExists);
        Assert.NotNull(after.State);
    }

    [Fact] // 20
    public async Task PersistenceStorage_WriteWithSameValuesUpdatesETag()
    {
        var (host, storage) = await StartAsync();
        await using var _ = host;
        var id = TestIds.RandomInteger();
        var state = new GrainState<TestState1>(new TestState1 { A = "same", B = 1, C = 1 });
        await storage.WriteStateAsync(StateName, id, state);
        var e1 = state.ETag;
        await storage.WriteStateAsync(StateName, id, state);
        Assert.NotNull(e1);
        Assert.NotNull(state.ETag);
        Assert.NotEqual(e1, state.ETag);
    }
}

/// <summary>The runner with tombstones retained on clear (Redis' default).</summary>
public sealed class GrainStorageTestRunnerRetainOnClearTests(ITestOutputHelper output) : GrainStorageTestRunnerTests(output, deleteStateOnClear: false);

/// <summary>The runner with DeleteStateOnClear.</summary>
public sealed class GrainStorageTestRunnerDeleteOnClearTests(ITestOutputHelper output) : GrainStorageTestRunnerTests(output, deleteStateOnClear: true);
