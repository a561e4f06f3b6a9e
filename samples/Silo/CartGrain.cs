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
/// deactivation when its state expires. On activation it registers with the storage's <see cref="GrainStateWatcher"/>;
/// the watcher calls back when the state's key expires (the server's TTL marker), is removed, or is written by
/// someone else, and the callback deactivates the activation with that reason. <see cref="OnDeactivateAsync"/>
/// announces the reason and, when the cart expired or was removed, unregisters the reminder.
/// </summary>
public sealed partial class CartGrain(
    [PersistentState(SampleNames.CartState, SampleNames.Storage)] IPersistentState<CartState> cart,
    ILogger<CartGrain> logger) : Grain, ICartGrain, IRemindable
{
    private readonly Guid _activationId = Guid.NewGuid();
    private GrainStateWatchRegistration? _watch;
    private volatile string? _stateGone;
    private bool _reminderRegistered;
    private int _ticks;

    private string Key => this.GetPrimaryKeyString();

    private CartEvents Events => ServiceProvider.GetRequiredService<CartEvents>();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // The state is loaded before OnActivateAsync; changes up to its ETag are not reported.
        var watcher = ServiceProvider.GetRequiredKeyedService<GrainStateWatcher>(SampleNames.Storage);
        _watch = watcher.Register(SampleNames.CartState, this.GetGrainId(), cart.Etag, static (change, self) => ((CartGrain)self!).OnStateChanged(change), this);
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

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _watch?.Dispose();
        var detail = $"{reason.ReasonCode}: {reason.Description}";
        LogDeactivated(logger, Key, detail);
        Events.Publish(Key, CartEventKind.Deactivated, detail);
        if (_stateGone is { } why)
        {
            // Expired or removed: no cart left to nudge about. (Written elsewhere or a watch gap: the next activation
            // reads the current state and the reminder keeps ticking.)
            await StopReminderAsync("the cart's state " + why);
        }
    }

    /// <summary>Watcher callback (thread pool, outside the grain's scheduler): quick and thread-safe.</summary>
    private void OnStateChanged(GrainStateChange change)
    {
        var what = change.Kind switch
        {
            GrainStateChangeKind.Expired => "expired (its TTL ran out)",
            GrainStateChangeKind.Removed => "was removed",
            GrainStateChangeKind.WrittenElsewhere => "was written elsewhere",
            _ => "may have changed (" + change.Detail + ")",
        };
        if (change.Kind is GrainStateChangeKind.Expired or GrainStateChangeKind.Removed)
        {
            _stateGone ??= what;
        }

        GrainContext.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationRequested, $"state '{SampleNames.CartState}' {what}, revision {change.Revision}"));
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
