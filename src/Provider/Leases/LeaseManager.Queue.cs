using CacheProvider.Internal;

namespace CacheProvider.Leases;

/// <summary>
/// The local queue of waiters per lock: only the head waiter of a name watches the key, the others wait their turn
/// in arrival order without a server consumer of their own.
/// </summary>
public sealed partial class LeaseManager
{
    // Guarded by _gatesLock, which is never held across an await.
    private readonly Dictionary<string, WaitGate> _gates = new(StringComparer.Ordinal);
    private readonly Lock _gatesLock = new();

    /// <summary>
    /// Takes a reference on <paramref name="key"/>'s queue; the caller then waits on its <see cref="WaitGate.Turn"/>.
    /// SemaphoreSlim releases its async waiters in FIFO order, and a cancelled wait leaves the queue without
    /// disturbing the waiters behind it.
    /// </summary>
    private WaitGate EnterQueue(string key)
    {
        lock (_gatesLock)
        {
            if (!_gates.TryGetValue(key, out var gate))
            {
                gate = new WaitGate();
                _gates.Add(key, gate);
            }

            gate.Users++;
            return gate;
        }
    }

    /// <summary>Drops this waiter's reference; the last one out removes the entry so idle names cost nothing.</summary>
    private void LeaveQueue(string key, WaitGate gate)
    {
        lock (_gatesLock)
        {
            if (--gate.Users == 0)
            {
                _gates.Remove(key);
            }
        }
    }

    /// <summary>Whether waiters of this manager are queued for (or watching) <paramref name="key"/>.</summary>
    private bool HasLocalWaiters(string key)
    {
        lock (_gatesLock)
        {
            return _gates.ContainsKey(key);
        }
    }

    /// <summary>Local waiters for one name right now (queued or at the head); for tests.</summary>
    internal int LocalWaiters(string name)
    {
        var key = PatternKeyCodec.Join(_options.KeyPrefix, PatternKeyCodec.Encode(name, allowDots: true, nameof(name)));
        lock (_gatesLock)
        {
            return _gates.TryGetValue(key, out var gate) ? gate.Users : 0;
        }
    }

    /// <summary>One name's queue. The semaphore is never disposed: nobody asks for its wait handle.</summary>
    private sealed class WaitGate
    {
        public SemaphoreSlim Turn { get; } = new(1, 1);

        // Guarded by the manager's _gatesLock.
        public int Users { get; set; }
    }
}
