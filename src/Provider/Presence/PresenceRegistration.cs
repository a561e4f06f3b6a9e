using Microsoft.Extensions.Logging;

namespace CacheProvider.Presence;

/// <summary>
/// A member kept online by heartbeats (a put with the TTL after <see cref="PresenceOptions.HeartbeatFraction"/> of it).
/// Dispose or <see cref="LeaveAsync"/> to go offline explicitly; if the process dies instead, the member goes offline
/// when the TTL runs out.
/// </summary>
public sealed class PresenceRegistration : IAsyncDisposable
{
    private readonly PresenceTracker _tracker;
    private readonly ReadOnlyMemory<byte> _info;
    private readonly TimeSpan _interval;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _kickLock = new();
    private TaskCompletionSource _kick = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _loop = Task.CompletedTask;
    private long _lastHeartbeatTicks;
    private int _left;

    internal PresenceRegistration(PresenceTracker tracker, string group, string member, ReadOnlyMemory<byte> info, TimeSpan ttl, TimeSpan interval, DateTimeOffset firstHeartbeat)
    {
        _tracker = tracker;
        Group = group;
        Member = member;
        _info = info;
        Ttl = ttl;
        _interval = interval;
        _lastHeartbeatTicks = firstHeartbeat.UtcTicks;
    }

    /// <summary>Group.</summary>
    public string Group { get; }

    /// <summary>Member name.</summary>
    public string Member { get; }

    /// <summary>Heartbeat TTL.</summary>
    public TimeSpan Ttl { get; }

    /// <summary>When the last successful heartbeat was sent.</summary>
    public DateTimeOffset LastHeartbeat => new(Interlocked.Read(ref _lastHeartbeatTicks), TimeSpan.Zero);

    /// <summary>Heartbeats that failed in a row (server unreachable); the member stays online until the TTL runs out.</summary>
    public int ConsecutiveFailures { get; private set; }

    /// <summary>Stops the heartbeats and marks the member offline (reason <see cref="PresenceChangeReason.Left"/>).</summary>
    public async Task LeaveAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _left, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _tracker.Forget(this);
        await _tracker.LeaveAsync(Group, Member, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Leaves (see <see cref="LeaveAsync"/>); errors are logged, not thrown: the key expires anyway.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await LeaveAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (PresenceTracker.IsTransient(ex))
        {
            _tracker.Logger.LogWarning(ex, "Leaving presence group {Group} failed; the member expires after its TTL", Group);
        }
    }

    internal void Start() => _loop = Task.Run(LoopAsync, CancellationToken.None);

    /// <summary>Sends the next heartbeat now (the connection came back).</summary>
    internal void Kick()
    {
        lock (_kickLock)
        {
            _kick.TrySetResult();
            _kick = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    private async Task LoopAsync()
    {
        var stop = _stop.Token;
        var time = _tracker.TimeProvider;
        while (!stop.IsCancellationRequested)
        {
            Task kick;
            lock (_kickLock)
            {
                kick = _kick.Task;
            }

            // After a failure retry sooner, so a short outage does not use up the TTL.
            var delay = ConsecutiveFailures == 0 ? _interval : TimeSpan.FromTicks(Math.Min(_interval.Ticks, TimeSpan.TicksPerSecond));
            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(stop))
            {
                await Task.WhenAny(Task.Delay(delay, time, wait.Token), kick).ConfigureAwait(false);
                await wait.CancelAsync().ConfigureAwait(false);
            }

            if (stop.IsCancellationRequested)
            {
                return;
            }

            var sentAt = time.GetUtcNow();
            try
            {
                await _tracker.HeartbeatAsync(Group, Member, _info, Ttl, stop).ConfigureAwait(false);
                Interlocked.Exchange(ref _lastHeartbeatTicks, sentAt.UtcTicks);
                ConsecutiveFailures = 0;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (PresenceTracker.IsTransient(ex))
            {
                ConsecutiveFailures++;
                _tracker.Logger.LogDebug(ex, "Presence heartbeat in group {Group} failed ({Failures} in a row)", Group, ConsecutiveFailures);
            }
        }
    }
}
