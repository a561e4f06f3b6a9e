using Orleans;
using Orleans.Runtime;
using Orleans.Storage;
using CacheProvider.Grains.Tests.Support;

namespace CacheProvider.Grains.Tests.Storage;

/// <summary>
/// Orleans' CommonStorageTests and data sets (contract §3.3): assembly-qualified state names, exact exception type,
/// the message fields, a random ETag on a never-written grain, and the Plain/Generic/Cyrillic data sets in both modes.
/// </summary>
public sealed class CommonStorageTests(ITestOutputHelper output)
{
    private static readonly string AqnStateName = typeof(TestGrainWithGuidKey).AssemblyQualifiedName!;
    private static readonly string GenericAqnStateName = typeof(TestGenericGrain<Guid, string>).AssemblyQualifiedName!;

    [Fact]
    public void State_names_used_here_are_assembly_qualified_with_commas_spaces_and_equals()
    {
        Assert.Contains(", ", AqnStateName);
        Assert.Contains("=", AqnStateName);
        Assert.Contains("+", AqnStateName);
        Assert.Contains("[[", GenericAqnStateName);
    }

    [Fact]
    public async Task PersistenceStorage_Relational_WriteReadIdCyrillic()
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var storage = host.CreateStorage(false);
        var state = new GrainState<TestState1>(new TestState1());
        await StorageAssert.Store_WriteRead(storage, AqnStateName, TestIds.Integer(0), state);
    }

    [Fact]
    public async Task Duplicate_write_fails_with_exactly_InconsistentStateException_carrying_all_message_fields()
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var storage = host.CreateStorage(false);
        var id = TestIds.RandomInteger();
        var state = new GrainState<TestState1>(new TestState1());
        await StorageAssert.Store_WriteRead(storage, AqnStateName, id, state);
        state.ETag = null;
        var ex = await Record.ExceptionAsync(() => StorageAssert.Store_WriteRead(storage, AqnStateName, id, state));
        Assert.IsType<InconsistentStateException>(ex);
        AssertMessage(ex, host.ServiceId, id);
    }

    [Fact]
    public async Task Write_with_a_random_ETag_to_a_never_written_grain_fails_with_exactly_InconsistentStateException()
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var storage = host.CreateStorage(false);
        var id = TestIds.RandomInteger();
        var state = new GrainState<TestState1>(new TestState1(), Random.Shared.Next().ToString());
        var ex = await Record.ExceptionAsync(() => storage.WriteStateAsync(AqnStateName, id, state));
        Assert.IsType<InconsistentStateException>(ex);
        AssertMessage(ex, host.ServiceId, id);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("abc")]
    [InlineData("-5")]
    public async Task Write_with_an_ETag_that_is_no_revision_fails_with_InconsistentStateException(string eTag)
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var storage = host.CreateStorage(false);
        var state = new GrainState<TestState1>(new TestState1(), eTag);
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(AqnStateName, TestIds.RandomInteger(), state));
    }

    [Fact]
    public async Task PersistenceStorage_WriteReadWriteReadStatesInParallel_with_retries()
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var storage = host.CreateStorage(false);
        var grains = Enumerable.Range(0, 100).Select(i => (Id: TestIds.String($"Common-{Guid.NewGuid():N}-{i}"), State: new GrainState<TestState1>(new TestState1 { B = i }))).ToList();
        await Parallel.ForEachAsync(grains, new ParallelOptions { MaxDegreeOfParallelism = 3 * Environment.ProcessorCount }, async (g, _) =>
        {
            for (var j = 0; j < 10; j++)
            {
                g.State.State = g.State.State! with { C = j };
                await StorageAssert.Retry(() => StorageAssert.Store_WriteRead(storage, AqnStateName, g.Id, g.State));
            }
        });
    }

    public static TheoryData<int, bool> Cases => new() { { 0, false }, { 1, false }, { 2, false }, { 0, true }, { 1, true }, { 2, true } };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task StorageDataSetPlain_GuidKey_WriteClearRead(int index, bool deleteOnClear)
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var (id, state) = TestDataSets.PlainGuid(index);
        await StorageAssert.Store_WriteClearRead(host.CreateStorage(deleteOnClear), AqnStateName, id, state);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task StorageDataSetPlain_IntegerKey_WriteClearRead(int index, bool deleteOnClear)
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var (id, state) = TestDataSets.PlainInteger(index);
        await StorageAssert.Store_WriteClearRead(host.CreateStorage(deleteOnClear), AqnStateName, id, state);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task StorageDataSetPlain_StringKey_WriteClearRead(int index, bool deleteOnClear)
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var (id, state) = TestDataSets.PlainString(index);
        await StorageAssert.Store_WriteClearRead(host.CreateStorage(deleteOnClear), AqnStateName, id, state);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task StorageDataSetGeneric_WriteClearRead_and_WriteRead(int index, bool deleteOnClear)
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var storage = host.CreateStorage(deleteOnClear);
        var (id, state) = TestDataSets.Generic(index);
        await StorageAssert.Store_WriteClearRead(storage, GenericAqnStateName, id, state);
        var (id2, state2) = TestDataSets.Generic(index);
        await StorageAssert.Store_WriteRead(storage, GenericAqnStateName, id2, state2);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task DataSet2_Cyrillic_WriteClearRead(int index, bool deleteOnClear)
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var (id, state) = TestDataSets.Cyrillic(index);
        await StorageAssert.Store_WriteClearRead(host.CreateStorage(deleteOnClear), GenericAqnStateName, id, state);
    }

    private static void AssertMessage(Exception? ex, string serviceId, GrainId id)
    {
        var message = ex!.Message;
        foreach (var field in new[] { "ServiceId=", "ProviderName=", "GrainType=", "GrainId=", "ETag=" })
        {
            Assert.Contains(field, message);
        }

        Assert.Contains("ServiceId=" + serviceId, message);
        Assert.Contains("GrainType=" + AqnStateName, message);
        Assert.Contains("GrainId=" + id, message);
    }

    /// <summary>Stand-ins for Orleans' GrainTypeGenerator test grains (their AQNs are the state names).</summary>
    public sealed class TestGrainWithGuidKey;

    /// <summary>A generic test grain.</summary>
    public sealed class TestGenericGrain<TKey, TData>;
}
