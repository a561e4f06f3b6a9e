namespace CacheProvider.Shared;

/// <summary>
/// Keeps a bucket watch running until cancelled, the way every watch-driven layer (near caches, session events,
/// HybridCache invalidation) needs it: an attempt that fails with an exception the caller accepts is reported and
/// followed by another after a delay (100 ms, doubling up to 5 s, back to 100 ms once an attempt reports its watch
/// live); an attempt that returns (its watch ended) is followed by another at once. Compiled into each assembly that
/// uses it (src/Shared), so no product assembly exposes it.
/// </summary>
internal static class WatchRetryLoop
{
    /// <summary>The delay after a first failure, and again after a watch was live.</summary>
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest delay between attempts.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(5);

    /// <summary>Runs <paramref name="attempt"/> until <paramref name="cancellationToken"/> is cancelled.</summary>
    /// <param name="attempt">One watch: gets a callback to call once the watch is live, and the loop's token.</param>
    /// <param name="isRetryable">Which failures are retried; any other ends the loop with it.</param>
    /// <param name="onFailed">Called with a retried failure and the delay before the next attempt.</param>
    /// <param name="time">Clock of the delays.</param>
    /// <param name="cancellationToken">Ends the loop (it then returns, without throwing).</param>
    public static async Task RunAsync(
        Func<Action, CancellationToken, Task> attempt,
        Func<Exception, bool> isRetryable,
        Action<Exception, TimeSpan> onFailed,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var delay = FirstDelay;
        void Live() => delay = FirstDelay;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await attempt(Live, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (isRetryable(ex))
            {
                onFailed(ex, delay);
                try
                {
                    await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                delay = delay * 2 < MaxDelay ? delay * 2 : MaxDelay;
            }
        }
    }
}
