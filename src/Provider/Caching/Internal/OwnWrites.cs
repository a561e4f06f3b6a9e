using System.Collections.Concurrent;

namespace CacheProvider.Caching.Internal;

/// <summary>
/// The revisions this cache instance wrote (bounded, newest kept), and its writes still waiting for their
/// acknowledgement per KV key. A watch can deliver a write before the writer learns its revision; such an event is
/// decided once the writes of that key that were in flight when it arrived are acknowledged (later writes of the key
/// do not prolong the wait, so a key written without pause cannot stall a watch). Thread-safe.
/// </summary>
internal sealed class OwnWrites
{
    private const int Capacity = 1 << 16;
    private readonly ConcurrentDictionary<ulong, byte> _revisions = new();
    private readonly ConcurrentQueue<ulong> _order = new();
    private readonly ConcurrentDictionary<string, KeyWrites> _pending = new(StringComparer.Ordinal);

    /// <summary>Call before sending a write of <paramref name="kvKey"/>; pass the result to <see cref="End"/>.</summary>
    public Write Begin(string kvKey)
    {
        var write = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        while (true)
        {
            var writes = _pending.GetOrAdd(kvKey, static _ => new KeyWrites());
            lock (writes)
            {
                if (!writes.Closed)
                {
                    writes.InFlight.Add(write);
                    return new Write(writes, write);
                }
            }
        }
    }

    /// <summary>The write ended: acknowledged at <paramref name="revision"/>, or failed (0).</summary>
    public void End(string kvKey, Write write, ulong revision)
    {
        if (revision != 0)
        {
            Record(revision);
        }

        var writes = write.Writes;
        bool empty;
        lock (writes)
        {
            writes.InFlight.Remove(write.Done);
            empty = writes.InFlight.Count == 0;
            writes.Closed = empty;
        }

        if (empty)
        {
            _pending.TryRemove(new KeyValuePair<string, KeyWrites>(kvKey, writes));
        }

        write.Done.TrySetResult();
    }

    /// <summary>Whether this instance wrote <paramref name="revision"/>; waits for its writes of the key in flight now first.</summary>
    public ValueTask<bool> IsOwnAsync(string kvKey, ulong revision, CancellationToken cancellationToken)
    {
        if (_revisions.ContainsKey(revision))
        {
            return new ValueTask<bool>(true);
        }

        if (!_pending.TryGetValue(kvKey, out var writes))
        {
            return new ValueTask<bool>(false);
        }

        Task[] inFlight;
        lock (writes)
        {
            inFlight = [.. writes.InFlight.Select(w => w.Task)];
        }

        return inFlight.Length == 0 ? new ValueTask<bool>(_revisions.ContainsKey(revision)) : WaitAsync(inFlight, revision, cancellationToken);
    }

    private async ValueTask<bool> WaitAsync(Task[] inFlight, ulong revision, CancellationToken cancellationToken)
    {
        await Task.WhenAll(inFlight).WaitAsync(cancellationToken).ConfigureAwait(false);
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

    /// <summary>One write in flight.</summary>
    internal readonly record struct Write(KeyWrites Writes, TaskCompletionSource Done);

    /// <summary>The writes of one key in flight.</summary>
    internal sealed class KeyWrites
    {
        public readonly List<TaskCompletionSource> InFlight = new(1);
        public bool Closed;
    }
}
