namespace CacheProvider.Grains;

/// <summary>
/// A callback registered with <see cref="GrainStateWatcher"/> for one state key. Dispose it when the activation
/// deactivates (or the cache entry goes away). Disposing twice is harmless.
/// </summary>
public sealed class GrainStateWatchRegistration : IDisposable
{
    private readonly GrainStateWatcher _owner;
    private int _disposed;

    internal GrainStateWatchRegistration(GrainStateWatcher owner, string stateKey, Action<GrainStateChange, object?> callback, object? state)
    {
        _owner = owner;
        StateKey = stateKey;
        Callback = callback;
        State = state;
    }

    /// <summary>The watched KV key.</summary>
    public string StateKey { get; }

    /// <summary>How often the callback was invoked.</summary>
    public int Notifications => Volatile.Read(ref _notifications);

    internal Action<GrainStateChange, object?> Callback { get; }

    internal object? State { get; }

    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    private int _notifications;

    internal void CountNotification() => Interlocked.Increment(ref _notifications);

    /// <summary>Unregisters.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _owner.Unregister(this);
        }
    }
}
