using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;

namespace CacheProvider.Grains.Internal;

/// <summary>
/// The component a <see cref="NatsGrainStorage"/> attaches to an activation (<see cref="IGrainContext.SetComponent{TComponent}"/>)
/// when it reads one of the activation's own states: one watch registration per state, chained behind the first. A
/// change deactivates the activation with a reason that names the state, what happened and the revision (after
/// telling an <see cref="IGrainStateChangeParticipant"/> grain on its scheduler). The registrations end when the
/// activation's <see cref="IGrainContext.Deactivated"/> completes, whatever deactivated it (also a failed activation).
/// </summary>
internal sealed partial class ActivationStateWatch
{
    private static readonly Action<GrainStateChange, object?> OnChangeCallback = static (change, state) => ((ActivationStateWatch)state!).OnChange(change);
    private static readonly Action<Task, object?> OnDeactivatedCallback = static (_, state) => ((ActivationStateWatch)state!).DisposeAll();

    private readonly IGrainContext _context;
    private readonly GrainStateWatcher _watcher;
    private readonly string _stateName;
    private readonly ILogger _logger;
    private readonly ActivationStateWatch _head;
    private GrainStateWatchRegistration? _registration;
    private ActivationStateWatch? _next;

    // On the head only: 1 while a change is being handled or once the deactivation was requested.
    private int _handling;

    private ActivationStateWatch(IGrainContext context, GrainStateWatcher watcher, string stateName, ILogger logger, ActivationStateWatch? head)
    {
        _context = context;
        _watcher = watcher;
        _stateName = stateName;
        _logger = logger;
        _head = head ?? this;
    }

    /// <summary>
    /// Registers <paramref name="stateKey"/> for <paramref name="context"/> unless it is registered already (a re-read).
    /// Call on the activation's scheduler, before the read that the registration must cover.
    /// </summary>
    public static void Attach(IGrainContext context, GrainStateWatcher watcher, string stateName, string stateKey, ILogger logger)
    {
        var head = context.GetComponent<ActivationStateWatch>();
        for (var entry = head; entry is not null; entry = entry._next)
        {
            if (ReferenceEquals(entry._watcher, watcher) && string.Equals(entry._stateName, stateName, StringComparison.Ordinal))
            {
                return;
            }
        }

        var added = new ActivationStateWatch(context, watcher, stateName, logger, head);
        added._registration = watcher.Register(stateKey, 0, OnChangeCallback, added);
        if (head is null)
        {
            context.SetComponent(added);
            _ = context.Deactivated.ContinueWith(OnDeactivatedCallback, added, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        else
        {
            added._next = head._next;
            head._next = added;
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

    private void OnChange(GrainStateChange change)
    {
        if (Interlocked.CompareExchange(ref _head._handling, 1, 0) != 0)
        {
            return;
        }

        if (_context.GrainInstance is IGrainStateChangeParticipant participant)
        {
            _context.Scheduler.QueueAction(static s =>
            {
                var (self, p, c) = ((ActivationStateWatch, IGrainStateChangeParticipant, GrainStateChange))s!;
                _ = self.TellAsync(p, c);
            }, (this, participant, change));
            return;
        }

        Deactivate(change);
    }

    /// <summary>Runs on the activation's scheduler (its awaits continue there, hence no ConfigureAwait(false)).</summary>
#pragma warning disable CA2007
    private async Task TellAsync(IGrainStateChangeParticipant participant, GrainStateChange change)
    {
        var deactivate = true;
        try
        {
            deactivate = await participant.OnStateChangedAsync(_stateName, change);
        }
#pragma warning disable CA1031 // The grain's hook failing must not keep a stale activation alive.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogHookFailed(_logger, ex, _context.GrainId.ToString(), _stateName);
        }

        if (deactivate)
        {
            Deactivate(change);
        }
        else
        {
            Volatile.Write(ref _head._handling, 0);
        }
    }
#pragma warning restore CA2007

    private void Deactivate(GrainStateChange change)
    {
        LogDeactivating(_logger, _context.GrainId.ToString(), _stateName, change.Kind, change.Revision);
        _context.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationRequested, Describe(_stateName, change)));
    }

    private void DisposeAll()
    {
        for (var entry = this; entry is not null; entry = entry._next)
        {
            entry._registration?.Dispose();
        }
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Debug, Message = "Deactivating {GrainId}: state {StateName} {Kind} at revision {Revision}")]
    private static partial void LogDeactivating(ILogger logger, string grainId, string stateName, GrainStateChangeKind kind, ulong revision);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "IGrainStateChangeParticipant of {GrainId} failed for state {StateName}; deactivating anyway")]
    private static partial void LogHookFailed(ILogger logger, Exception exception, string grainId, string stateName);
}
