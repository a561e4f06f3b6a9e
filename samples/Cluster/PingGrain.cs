using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Configuration;

namespace CacheProvider.Samples.Cluster;

public interface IPingGrain : IGrainWithGuidKey
{
    /// <summary>The name of the silo the activation lives on.</summary>
    Task<string> Where();
}

/// <summary>
/// A grain with no state: its first call costs placement, a grain directory registration and an activation, nothing
/// else (the bench's first-call latency and outage recovery use it).
/// </summary>
public sealed class PingGrain(IOptions<SiloOptions> silo) : Grain, IPingGrain
{
    public Task<string> Where() => Task.FromResult(silo.Value.SiloName);
}
