using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans;
using Orleans.Runtime;

namespace CacheProvider.Grains.Internal;

/// <summary>
/// Registrations a <see cref="NatsGrainStorage"/> makes for the activations it reads for: the callback's state is the
/// activation's <see cref="IGrainContext"/> itself (no per-activation object), so a re-read finds its registration
/// by key and context. A change deactivates the activation with a reason that names the state, what happened and the
/// revision, after telling an <see cref="IGrainStateChangeParticipant"/> grain on its scheduler. The registration ends
/// with the activation: its lifecycle's stop (<see cref="ActivationWatchConfigurator"/>), or else its
/// <see cref="IGrainContext.Deactivated"/> task.
/// </summary>
internal static partial class ActivationStateWatch
{
    private static readonly Action<GrainStateChange, object?> OnChangeCallback = static (change, state) => OnChange((IGrainContext)state!, change);
    private static readonly Action<Task, object?> OnDeactivatedCallback = static (_, state) => ((Detach)state!).Run();

    /// <summary>Registers <paramref name="stateKey"/> for <paramref name="context"/> unless it is registered already (a re-read).</summary>
    public static void Attach(IGrainContext context, GrainStateWatcher watcher, string stateKey, bool detachedByLifecycle)
    {
        if (watcher.IsRegistered(stateKey, context))
        {
            return;
        }

        watcher.Register(stateKey, 0, OnChangeCallback, context);
        if (!detachedByLifecycle)
        {
            _ = context.Deactivated.ContinueWith(OnDeactivatedCallback, new Detach(watcher, stateKey, context), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>The deactivation reason text for a change of <paramref name="stateName"/>.</summary>
    public static string Describe(string stateName, GrainStateChange change)
    {
        var what = change.Kind switch
        {
            GrainStateChangeKind.Expired => "expired",
            GrainStateChangeKind.Removed => "was removed",
            GrainStateChangeKind.WrittenElsewhere => "was written elsewhere",
            _ => "may have changed (" + change.Detail + ")",
        };
        return $"NATS grain state '{stateName}' {what} ({nameof(GrainStateChangeKind)}.{change.Kind}, revision {change.Revision})";
    }

    private static void OnChange(IGrainContext context, GrainStateChange change)
    {
        var stateName = NatsGrainStateKeys.TryParse(change.StateKey, out var key) ? key.StateName : change.StateKey;
        if (context.GrainInstance is IGrainStateChangeParticipant participant)
        {
            context.Scheduler.QueueAction(static s =>
            {
                var (c, p, n, ch) = ((IGrainContext, IGrainStateChangeParticipant, string, GrainStateChange))s!;
                _ = TellAsync(c, p, n, ch);
            }, (context, participant, stateName, change));
            return;
        }

        Deactivate(context, stateName, change);
    }

    /// <summary>Runs on the activation's scheduler (its awaits continue there, hence no ConfigureAwait(false)).</summary>
#pragma warning disable CA2007
    private static async Task TellAsync(IGrainContext context, IGrainStateChangeParticipant participant, string stateName, GrainStateChange change)
    {
        var deactivate = true;
        try
        {
            deactivate = await participant.OnStateChangedAsync(stateName, change);
        }
#pragma warning disable CA1031 // The grain's hook failing must not keep a stale activation alive.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogHookFailed(Logger(context), ex, context.GrainId.ToString(), stateName);
        }

        if (deactivate)
        {
            Deactivate(context, stateName, change);
        }
    }
#pragma warning restore CA2007

    private static void Deactivate(IGrainContext context, string stateName, GrainStateChange change) =>
        context.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationRequested, Describe(stateName, change)));

    private static ILogger Logger(IGrainContext context) =>
        (ILogger?)context.ActivationServices.GetService<ILogger<NatsGrainStorage>>() ?? NullLogger.Instance;

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "IGrainStateChangeParticipant of {GrainId} failed for state {StateName}; deactivating anyway")]
    private static partial void LogHookFailed(ILogger logger, Exception exception, string grainId, string stateName);

    /// <summary>The fallback detach (an activation whose lifecycle does not end its registration).</summary>
    private sealed class Detach(GrainStateWatcher watcher, string key, IGrainContext context)
    {
        public void Run() => watcher.Unregister(key, context);
    }
}
