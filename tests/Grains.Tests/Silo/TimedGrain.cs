using System.Text.Json.Serialization;
using Orleans;
using Orleans.Runtime;

namespace CacheProvider.Grains.Tests.Silo;

/// <summary>A state that chooses its own TTL per write (<see cref="IStateTimeToLive"/>).</summary>
public sealed class TimedState : IStateTimeToLive
{
    public string? Value { get; set; }

    /// <summary>The TTL this grain asked for (null = the configured one).</summary>
    public TimeSpan? Ttl { get; set; }

    [JsonIgnore]
    public TimeSpan? TimeToLive => Ttl;
}

/// <summary>A grain whose state's TTL is chosen per grain and per write.</summary>
public interface ITimedGrain : IGrainWithStringKey
{
    Task<StateView> Write(string value, TimeSpan? ttl);

    Task<StateView> Reread();

    Task<StateView> Clear();
}

public sealed class TimedGrain([PersistentState(TimedGrain.StateName, SiloFixture.StorageName)] IPersistentState<TimedState> timed) : Grain, ITimedGrain
{
    public const string StateName = "timed";

    /// <summary>The silo's configured TTL for <see cref="StateName"/> (what a null per-grain TTL falls back to).</summary>
    public static readonly TimeSpan ConfiguredTtl = TimeSpan.FromSeconds(45);

    private readonly Guid _activationId = Guid.NewGuid();

    public async Task<StateView> Write(string value, TimeSpan? ttl)
    {
        timed.State.Value = value;
        timed.State.Ttl = ttl;
        await timed.WriteStateAsync();
        return View();
    }

    public async Task<StateView> Reread()
    {
        await timed.ReadStateAsync();
        return View();
    }

    public async Task<StateView> Clear()
    {
        await timed.ClearStateAsync();
        return View();
    }

    private StateView View() => new() { Value = timed.State.Value, RecordExists = timed.RecordExists, ETag = timed.Etag, ActivationId = _activationId };
}
