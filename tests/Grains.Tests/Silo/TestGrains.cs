using Orleans;
using Orleans.Runtime;

namespace CacheProvider.Grains.Tests.Silo;

/// <summary>What a grain's persistent state looks like from inside the grain.</summary>
[GenerateSerializer]
public sealed class StateView
{
    [Id(0)]
    public string? Value { get; set; }

    [Id(1)]
    public bool RecordExists { get; set; }

    [Id(2)]
    public string? ETag { get; set; }

    [Id(3)]
    public Guid ActivationId { get; set; }
}

/// <summary>Stored state of <see cref="NoteGrain"/> (written by the storage's serializer, System.Text.Json by default).</summary>
public sealed class NoteState
{
    public string? Value { get; set; }

    public int Version { get; set; }
}

/// <summary>A grain with two persistent states on the NATS storage: <c>note</c> (no TTL) and <c>short</c> (short per-state TTL).</summary>
public interface INoteGrain : IGrainWithStringKey
{
    Task<StateView> Write(string value);

    Task<StateView> WriteShortLived(string value);

    Task<StateView> Get();

    Task<StateView> Reread();

    Task<StateView> RereadShortLived();

    Task<StateView> Clear();
}

public sealed class NoteGrain(
    [PersistentState("note", SiloFixture.StorageName)] IPersistentState<NoteState> note,
    [PersistentState("short", SiloFixture.StorageName)] IPersistentState<NoteState> shortLived) : Grain, INoteGrain
{
    private readonly Guid _activationId = Guid.NewGuid();

    public async Task<StateView> Write(string value)
    {
        note.State.Value = value;
        note.State.Version++;
        await note.WriteStateAsync();
        return View(note);
    }

    public async Task<StateView> WriteShortLived(string value)
    {
        shortLived.State.Value = value;
        await shortLived.WriteStateAsync();
        return View(shortLived);
    }

    public Task<StateView> Get() => Task.FromResult(View(note));

    public async Task<StateView> Reread()
    {
        await note.ReadStateAsync();
        return View(note);
    }

    public async Task<StateView> RereadShortLived()
    {
        await shortLived.ReadStateAsync();
        return View(shortLived);
    }

    public async Task<StateView> Clear()
    {
        await note.ClearStateAsync();
        return View(note);
    }

    private StateView View(IPersistentState<NoteState> state) =>
        new() { Value = state.State.Value, RecordExists = state.RecordExists, ETag = state.Etag, ActivationId = _activationId };
}

/// <summary>A grain with a reminder that counts its ticks.</summary>
public interface ITickingGrain : IGrainWithStringKey
{
    Task Start(TimeSpan period);

    Task Stop();

    Task<int> Ticks();
}

public sealed class TickingGrain : Grain, ITickingGrain, IRemindable
{
    public const string ReminderName = "tick";
    private int _ticks;

    public async Task Start(TimeSpan period) => await this.RegisterOrUpdateReminder(ReminderName, TimeSpan.FromSeconds(1), period);

    public async Task Stop()
    {
        var reminder = await this.GetReminder(ReminderName);
        if (reminder is not null)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    public Task<int> Ticks() => Task.FromResult(_ticks);

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == ReminderName)
        {
            _ticks++;
        }

        return Task.CompletedTask;
    }
}
