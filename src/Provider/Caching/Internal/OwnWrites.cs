using System.Collections.Concurrent;

namespace CacheProvider.Caching.Internal;

/// <summary>
/// The revisions this cache instance wrote (bounded, newest kept), and its writes still waiting for their
/// acknowledgement per KV key. A watch can deliver a write before the writer learns its revision; such an event is
/// decided once the writer's in-flight writes of that key are acknowledged. Thread-safe.
/// </summary>
internal sealed class OwnWrites
{
    private const int Capacity = 1 << 16;
    private readonly ConcurrentDictionary<ulong, byte> _revisions = new();
    private readonly ConcurrentQueue<ulong> _order = new();
    private readonly ConcurrentDictionary<string, Pending> _pending = new(StringComparer.Ordinal);

    /// <summary>Call before sending a write of <paramref name="kvKey"/>; pass the result to <see cref="End"/>.</summary>
    public Pending Begin(string kvKey)
    {
        while (true)
        {
            var pending = _pending.GetOrAdd(kvKey, static _ => new Pending());
            lock (pending)
            {
                if (!pending.Closed)
                {
                    pending.Count++;
                    return pending;
                }
            }
        }
    }

    /// <summary>The write ended: acknowledged at <paramref name="revision"/>, or failed (0).</summary>
    public void End(string kvKey, Pending pending, ulong revision)
    {
        if (revision != 0)
        {
            Record(revision);
        }

        lock (pending)
        {
            if (--pending.Count > 0)
            {
                return;
            }

            pending.Closed = true;
        }

        _pending.TryRemove(new KeyValuePair<string, Pending>(kvKey, pending));
        pending.Done.TrySetResult();
    }

    /// <summary>Whether this instance wrote <paramref name="revision"/>; waits for its in-flight writes of the key first.</summary>
    public ValueTask<bool> IsOwnAsync(string kvKey, ulong revision, CancellationToken cancellationToken)
    {
        if (_revisions.ContainsKey(revision))
        {
            return new ValueTask<bool>(true);
        }

        return _pending.TryGetValue(kvKey, out var pending) ? WaitAsync(pending, revision, cancellationToken) : new ValueTask<bool>(false);
    }

    private async ValueTask<bool> WaitAsync(Pending pending, ulong revision, CancellationToken cancellationToken)
    {
        await pending.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return _revisions.ContainsKey(revision);
    }

    private void Record(ulong revision)
    {
        if (_revisions.TryAdd(revision, 0))
        {
            _order.Enqueue(revision);
            while (_revisions.Count > Capacity && _order.TryDequeue(out var old))
            {
                _revisions.TryRemove(old, out _);
            }
        }
    }

    /// <summary>Writes of one key in flight.</summary>
    internal sealed class Pending
    {
        public int Count;
        public bool Closed;
        public readonly TaskCompletionSource Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
