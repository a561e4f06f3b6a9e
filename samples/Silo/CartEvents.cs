namespace CacheProvider.Samples.Silo;

/// <summary>What a cart announced: a reminder tick, its deactivation (with Orleans' reason), its reminder stopping.</summary>
internal sealed record CartEvent(DateTimeOffset At, string Cart, CartEventKind Kind, string Detail);

internal enum CartEventKind
{
    ReminderTick,
    Deactivated,
    ReminderStopped,
}

/// <summary>
/// Silo-wide feed of <see cref="CartEvent"/>s (a singleton: the client runs in the silo's process). Grains publish,
/// the console prints, the smoke run waits for the events its story expects.
/// </summary>
internal sealed class CartEvents
{
    private readonly List<CartEvent> _history = [];
    private readonly List<(Func<CartEvent, bool> Match, TaskCompletionSource<CartEvent> Done)> _waiters = [];

    /// <summary>Raised for every event, on the publishing thread.</summary>
    public event Action<CartEvent>? Published;

    public void Publish(string cart, CartEventKind kind, string detail)
    {
        var e = new CartEvent(DateTimeOffset.Now, cart, kind, detail);
        List<TaskCompletionSource<CartEvent>> done = [];
        lock (_history)
        {
            _history.Add(e);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Match(e))
                {
                    done.Add(_waiters[i].Done);
                    _waiters.RemoveAt(i);
                }
            }
        }

        Published?.Invoke(e);
        foreach (var tcs in done)
        {
            tcs.TrySetResult(e);
        }
    }

    /// <summary>The first event (already published or still to come) that matches; null after <paramref name="timeout"/>.</summary>
    public async Task<CartEvent?> WaitForAsync(Func<CartEvent, bool> match, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var tcs = new TaskCompletionSource<CartEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_history)
        {
            if (_history.FirstOrDefault(match) is { } seen)
            {
                return seen;
            }

            _waiters.Add((match, tcs));
        }

        try
        {
            return await tcs.Task.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            lock (_history)
            {
                _waiters.RemoveAll(w => w.Done == tcs);
            }

            return null;
        }
    }
}
