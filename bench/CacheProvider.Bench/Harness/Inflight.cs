using System.Diagnostics;

namespace CacheProvider.Bench.Harness;

/// <summary>Runs an operation a fixed number of times with a fixed number outstanding (like kv.mjs runInflight).</summary>
internal static class Inflight
{
    /// <summary>Runs <paramref name="op"/>(i) for every i below <paramref name="count"/>, at most <paramref name="inFlight"/> at once.</summary>
    /// <returns>Seconds taken.</returns>
    public static Task<double> RunAsync(int count, int inFlight, Func<int, Task> op) => RunAsync(count, inFlight, (_, i) => op(i));

    /// <summary>As above; <paramref name="op"/>(worker, i) also gets which of the <paramref name="inFlight"/> loops runs it (for per-loop buffers).</summary>
    /// <returns>Seconds taken.</returns>
    public static async Task<double> RunAsync(int count, int inFlight, Func<int, int, Task> op)
    {
        var next = -1;
        async Task Worker(int worker)
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                await op(worker, i).ConfigureAwait(false);
            }
        }

        var start = Stopwatch.GetTimestamp();
        var workers = new Task[Math.Min(inFlight, count)];
        for (var w = 0; w < workers.Length; w++)
        {
            workers[w] = Worker(w);
        }

        await Task.WhenAll(workers).ConfigureAwait(false);
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
}
