namespace CacheProvider.Grains.Internal;

/// <summary>
/// Marks one storage operation on a watched key so the watcher can tell the storage's own writes from others'.
/// Default (no registration for the key) is a no-op and allocates nothing.
/// </summary>
internal readonly struct StateOperationScope : IDisposable
{
    private readonly OperationToken? _token;

    public StateOperationScope(OperationToken token) => _token = token;

    /// <summary>The operation succeeded and the key is now at (or was read at) <paramref name="revision"/>.</summary>
    public void Complete(ulong revision) => _token?.Complete(revision);

    /// <summary>Ends the operation (a failure if not completed).</summary>
    public void Dispose() => _token?.Complete(0);
}

/// <summary>The allocated part of a <see cref="StateOperationScope"/>.</summary>
internal sealed class OperationToken
{
    private readonly GrainStateWatcher _watcher;
    private readonly KeyWatch _watch;
    private int _done;

    public OperationToken(GrainStateWatcher watcher, KeyWatch watch)
    {
        _watcher = watcher;
        _watch = watch;
    }

    public void Complete(ulong revision)
    {
        if (Interlocked.Exchange(ref _done, 1) == 0)
        {
            _watcher.EndOperation(_watch, revision);
        }
    }
}
