using Orleans;
using Orleans.Runtime;
using Orleans.Storage;
using CacheProvider.Grains.Tests.Support;

namespace CacheProvider.Grains.Tests.Storage;

/// <summary>The test kit's Store_WriteRead and Store_WriteClearRead helpers.</summary>
internal static class StorageAssert
{
    public static async Task<GrainState<T>> Store_WriteRead<T>(IGrainStorage storage, string stateName, GrainId id, GrainState<T> state)
        where T : new()
    {
        await storage.WriteStateAsync(stateName, id, state);
        var read = new GrainState<T>(new T());
        await storage.ReadStateAsync(stateName, id, read);
        Assert.Equal(state.ETag, read.ETag);
        Assert.Equal(state.State, read.State);
        Assert.True(read.RecordExists);
        return read;
    }

    public static async Task Store_WriteClearRead<T>(IGrainStorage storage, string stateName, GrainId id, GrainState<T> state)
        where T : new()
    {
        await storage.WriteStateAsync(stateName, id, state);
        Assert.True(state.RecordExists);
        var e1 = state.ETag;
        await storage.ClearStateAsync(stateName, id, state);
        Assert.NotEqual(e1, state.ETag);
        Assert.False(state.RecordExists);
        var again = new GrainState<T>(new T(), state.ETag);
        await storage.WriteStateAsync(stateName, id, again);
        Assert.Equal(new T(), again.State);
        Assert.True(again.RecordExists);
        var read = new GrainState<T>(new T());
        await storage.ReadStateAsync(stateName, id, read);
        Assert.Equal(again.ETag, read.ETag);
        Assert.True(read.RecordExists);
    }

    public static async Task<T> Retry<T>(Func<Task<T>> action, int attempts = 5)
    {
        for (var i = 1; ; i++)
        {
            try
            {
                return await action();
            }
            catch (Exception) when (i < attempts)
            {
                await Task.Delay(10 * i * i);
            }
        }
    }
}
