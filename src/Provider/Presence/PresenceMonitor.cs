using Microsoft.Extensions.Logging;

namespace CacheProvider.Presence;

/// <summary>
/// Raises <see cref="MemberOnline"/> and <see cref="MemberOffline"/> for one group from a background watch
/// (<see cref="IPresenceTracker.WatchAsync"/>). Subscribe, then <see cref="Start"/>; dispose to stop.
/// </summary>
public sealed class PresenceMonitor : IAsyncDisposable
{
    private readonly PresenceTracker _tracker;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    internal PresenceMonitor(PresenceTracker tracker, string group, ILogger logger)
    {
        _tracker = tracker;
        Group = group;
        _logger = logger;
    }

    /// <summary>The watched group.</summary>
    public string Group { get; }

    /// <summary>A member came online (or was online when the monitor started).</summary>
    public event EventHandler<PresenceChangedEventArgs>? MemberOnline;

    /// <summary>A member went offline: <see cref="PresenceChangeReason.Expired"/> or <see cref="PresenceChangeReason.Left"/>.</summary>
    public event EventHandler<PresenceChangedEventArgs>? MemberOffline;

    /// <summary>The watch failed for good (not raised on dispose).</summary>
    public event EventHandler<Exception>? Faulted;

    /// <summary>Starts watching in the background.</summary>
    public void Start() => _loop = Task.Run(LoopAsync, CancellationToken.None);

    /// <summary>Stops watching.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task LoopAsync()
    {
        try
        {
            await foreach (var change in _tracker.WatchAsync(Group, _stop.Token).ConfigureAwait(false))
            {
                var handler = change.Kind == PresenceChangeKind.Online ? MemberOnline : MemberOffline;
                try
                {
                    handler?.Invoke(this, new PresenceChangedEventArgs(change));
                }
#pragma warning disable CA1031 // A throwing handler must not end the watch for everyone else.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    _logger.LogError(ex, "A presence handler for group {Group} threw", Group);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // Reported through Faulted: a background loop has nobody else to throw to.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _logger.LogError(ex, "Presence watch of group {Group} failed", Group);
            Faulted?.Invoke(this, ex);
        }
    }
}
