using CacheProvider.Grains;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;

namespace CacheProvider.Samples.Silo;

/// <summary>
/// A shopping cart's stored state. <see cref="StateTtlAttribute"/> gives every state of this type a TTL; the silo's
/// <c>StateTtls["cart"]</c> (the <c>--ttl</c> option) wins over it. Each write (and, with <c>RefreshTtlOnRead</c>, a
/// read late in the TTL) renews it, so a cart disappears after that long without activity.
/// </summary>
[StateTtl("00:00:06")]
public sealed class CartState
{
    public List<string> Items { get; set; } = [];

    public DateTimeOffset? UpdatedAt { get; set; }
}

/// <summary>A cart as its grain sees it.</summary>
[GenerateSerializer]
public sealed record CartView(
    [property: Id(0)] string[] Items,
    [property: Id(1)] bool RecordExists,
    [property: Id(2)] string? ETag,
    [property: Id(3)] Guid ActivationId);

public interface ICartGrain : IGrainWithStringKey
{
    /// <summary>Adds an item, writes the state (renewing its TTL) and makes sure the nudge reminder is registered.</summary>
    Task<CartView> Add(string item);

    /// <summary>Re-reads the state from NATS.</summary>
    Task<CartView> Get();
}

/// <summary>
/// The cart grain: state on the NATS grain storage with a per-state TTL, a reminder in the NATS reminder table, and
/// nothing else. The storage deactivates the activation by itself when the cart's state expires (the server's TTL
/// marker), is removed, or is written by someone else; the deactivation reason says which and at what revision. The
/// grain only takes the optional hook (<see cref="IGrainStateChangeParticipant"/>) to unregister its reminder when the
/// cart expired or was removed.
/// </summary>
public sealed partial class CartGrain(
    [PersistentState(SampleNames.CartState, SampleNames.Storage)] IPersistentState<CartState> cart,
    ILogger<CartGrain> logger) : Grain, ICartGrain, IRemindable, IGrainStateChangeParticipant
{
    private readonly Guid _activationId = Guid.NewGuid();
    private bool _reminderRegistered;
    private int _ticks;

    private string Key => this.GetPrimaryKeyString();

    private CartEvents Events => ServiceProvider.GetRequiredService<CartEvents>();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        LogActivated(logger, Key, cart.RecordExists ? $"{cart.State.Items.Count} item(s), ETag {cart.Etag}" : "no stored cart");
        return Task.CompletedTask;
    }

    public async Task<CartView> Add(string item)
    {
        cart.State.Items.Add(item);
        cart.State.UpdatedAt = DateTimeOffset.UtcNow;
        await cart.WriteStateAsync();
        if (!_reminderRegistered)
        {
            await this.RegisterOrUpdateReminder(SampleNames.NudgeReminder, TimeSpan.FromSeconds(1), SampleNames.NudgePeriod);
            _reminderRegistered = true;
        }

        return View();
    }

    public async Task<CartView> Get()
    {
        await cart.ReadStateAsync();
        return View();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != SampleNames.NudgeReminder)
        {
            return;
        }

        if (!cart.RecordExists)
        {
            // A tick woke an activation whose cart has expired: nothing left to nudge about.
            await StopReminderAsync("the cart has no stored state");
            return;
        }

        _ticks++;
        Events.Publish(Key, CartEventKind.ReminderTick, $"nudge #{_ticks} from the NATS reminder table: {cart.State.Items.Count} item(s) waiting");
    }

    /// <summary>The storage tells the grain before it deactivates it: a cart that is gone needs no more nudges.</summary>
    public async Task<bool> OnStateChangedAsync(string stateName, GrainStateChange change)
    {
        if (change.Kind is GrainStateChangeKind.Expired or GrainStateChangeKind.Removed)
        {
            await StopReminderAsync($"the cart's state {(change.Kind == GrainStateChangeKind.Expired ? "expired" : "was removed")}");
        }

        return true;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        var detail = $"{reason.ReasonCode}: {reason.Description}";
        LogDeactivated(logger, Key, detail);
        Events.Publish(Key, CartEventKind.Deactivated, detail);
        return Task.CompletedTask;
    }

    private async Task StopReminderAsync(string why)
    {
        if (await this.GetReminder(SampleNames.NudgeReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
            Events.Publish(Key, CartEventKind.ReminderStopped, "unregistered the nudge reminder: " + why);
        }
    }

    private CartView View() => new([.. cart.State.Items], cart.RecordExists, cart.Etag, _activationId);

    [LoggerMessage(Level = LogLevel.Information, Message = "cart {Cart} activated: {State}")]
    private static partial void LogActivated(ILogger logger, string cart, string state);

    [LoggerMessage(Level = LogLevel.Information, Message = "cart {Cart} deactivated, {Reason}")]
    private static partial void LogDeactivated(ILogger logger, string cart, string reason);
}
