using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Configuration;
using Orleans.Runtime;

namespace CacheProvider.Samples.Cluster;

/// <summary>A counter's stored state: NATS grain storage, with a TTL each write renews.</summary>
public sealed class CounterState
{
    public int Value { get; set; }

    /// <summary>The silo that wrote the value: after a silo dies, its counters are read back on another.</summary>
    public string? WrittenOn { get; set; }

    public DateTimeOffset? UpdatedAt { get; set; }
}

/// <summary>A counter as its activation sees it, and where that activation lives.</summary>
[GenerateSerializer]
public sealed record CounterView(
    [property: Id(0)] string Key,
    [property: Id(1)] int Value,
    [property: Id(2)] string? WrittenOn,
    [property: Id(3)] string Silo,
    [property: Id(4)] string SiloAddress,
    [property: Id(5)] int TicksHere);

public interface ICounterGrain : IGrainWithStringKey
{
    /// <summary>Adds one, writes the state and makes sure the heartbeat reminder is registered.</summary>
    Task<CounterView> Increment();

    /// <summary>The value this activation holds (read from storage when it activated) and where it lives.</summary>
    Task<CounterView> Get();
}

/// <summary>
/// A counter whose state lives in the NATS grain storage (per-state TTL) and whose heartbeat reminder lives in the NATS
/// reminder table. Each tick is announced on the silo's stdout (<c>@tick</c>), so whoever started the silos sees where
/// the reminders tick without calling (and so activating) the grain.
/// </summary>
internal sealed class CounterGrain(
    [PersistentState(SampleNames.CounterState, SampleNames.Storage)] IPersistentState<CounterState> state,
    IOptions<SiloOptions> siloOptions,
    ILocalSiloDetails silo,
    SiloConsole console) : Grain, ICounterGrain, IRemindable
{
    private int _ticks;
    private bool _reminderRegistered;

    private string SiloName => siloOptions.Value.SiloName;

    public async Task<CounterView> Increment()
    {
        state.State.Value++;
        state.State.WrittenOn = SiloName;
        state.State.UpdatedAt = DateTimeOffset.UtcNow;
        await state.WriteStateAsync();
        if (!_reminderRegistered)
        {
            await this.RegisterOrUpdateReminder(SampleNames.HeartbeatReminder, SampleNames.HeartbeatPeriod, SampleNames.HeartbeatPeriod);
            _reminderRegistered = true;
        }

        return View();
    }

    public Task<CounterView> Get() => Task.FromResult(View());

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        _ticks++;
        console.Write(SiloEvent.FormatTick(this.GetPrimaryKeyString(), SiloName, _ticks));
        return Task.CompletedTask;
    }

    private CounterView View() =>
        new(this.GetPrimaryKeyString(), state.State.Value, state.State.WrittenOn, SiloName, silo.SiloAddress.ToParsableString(), _ticks);
}
