using Microsoft.Extensions.Logging;

namespace CacheProvider.Grains.Internal;

/// <summary>One callback invocation on the thread pool, so a slow callback never holds up the watch loop.</summary>
internal sealed class CallbackWorkItem : IThreadPoolWorkItem
{
    private readonly GrainStateWatchRegistration _registration;
    private readonly GrainStateChange _change;
    private readonly ILogger _logger;

    public CallbackWorkItem(GrainStateWatchRegistration registration, GrainStateChange change, ILogger logger)
    {
        _registration = registration;
        _change = change;
        _logger = logger;
    }

    public void Execute()
    {
        if (_registration.IsDisposed)
        {
            return;
        }

        try
        {
            _registration.CountNotification();
            _registration.Callback(_change, _registration.State);
        }
#pragma warning disable CA1031 // A callback's failure must not affect other callbacks or the watch.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _logger.LogWarning(ex, "Grain state callback for {Key} ({Kind}) failed", _change.StateKey, _change.Kind);
        }
    }
}
