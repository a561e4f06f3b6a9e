using Orleans;
using Orleans.GrainDirectory;
using Orleans.Runtime;

namespace CacheProvider.Clustering.Tests.Silo;

/// <summary>A grain with persistent state on the default storage, registered in the default directory.</summary>
public interface ICounterGrain : IGrainWithStringKey
{
    Task<int> Increment();

    Task<string> Silo();
}

public sealed class CounterGrain([PersistentState("count")] IPersistentState<int> count) : Grain, ICounterGrain
{
    public async Task<int> Increment()
    {
        count.State++;
        await count.WriteStateAsync();
        return count.State;
    }

    public Task<string> Silo() => Task.FromResult(((ILocalSiloDetails)ServiceProvider.GetService(typeof(ILocalSiloDetails))!).SiloAddress.ToParsableString());
}

/// <summary>A grain registered in the directory named <c>other</c>.</summary>
public interface IElsewhereGrain : IGrainWithGuidKey
{
    Task<string> Ping();
}

[GrainDirectory("other")]
public sealed class ElsewhereGrain : Grain, IElsewhereGrain
{
    public Task<string> Ping() => Task.FromResult("pong");
}
