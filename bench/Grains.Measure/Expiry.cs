using CacheProvider.Bench.Reporting;
using Orleans;

namespace CacheProvider.Grains.Measure;

/// <summary>
/// Deactivation after the TTL deadline: p50/p99/max over many grains with a 2 s per-state TTL and no grain code (goal
/// p99 ≤ 300 ms), at 500 and 10,000 grains.
/// </summary>
internal static class Expiry
{
    private const double GoalP99Ms = 300;

    public static async Task MeasureAsync(IGrainFactory? factory, int grains, long firstKey)
    {
        if (factory is null)
        {
            throw new InvalidOperationException("no silo");
        }

        ExpiryLog.Clear();
        var started = 0;
        var failures = 0;
        string? firstFailure = null;
        await Parallel.ForEachAsync(Enumerable.Range(0, grains), new ParallelOptions { MaxDegreeOfParallelism = Bench.Concurrency }, async (i, _) =>
        {
            try
            {
                await factory.GetGrain<IExpiringGrain>(firstKey + i).Start();
                Interlocked.Increment(ref started);
            }
            catch (Exception ex)
            {
                Interlocked.Increment(ref failures);
                Interlocked.CompareExchange(ref firstFailure, Report.Describe(ex), null);
            }
        });
        if (failures > 0)
        {
            Console.WriteLine($"# expiry: {failures} grains failed to start: {firstFailure}");
        }

        var wait = DateTime.UtcNow + Bench.ExpiringTtl + TimeSpan.FromSeconds(20);
        while (ExpiryLog.Count < started && DateTime.UtcNow < wait)
        {
            await Task.Delay(100);
        }

        var sorted = ExpiryLog.Sorted();
        var n = sorted.Length;
        if (n == 0)
        {
            Console.WriteLine($"deactivation_after_ttl_deadline_{grains}_p99_ms: error=no grain deactivated with the expiry reason (0/{started})");
            return;
        }

        var p50 = sorted[n / 2];
        var p99 = sorted[Math.Min(n - 1, (int)Math.Ceiling(n * 0.99) - 1)];
        Console.WriteLine($"deactivation_after_ttl_deadline_{grains}_grains: ours={n}/{started} peer=n/a (Orleans' providers have no expiry-driven deactivation)");
        Console.WriteLine($"deactivation_after_ttl_deadline_{grains}_p50_ms: ours={p50:F0} peer=n/a");
        Console.WriteLine($"deactivation_after_ttl_deadline_{grains}_p99_ms: ours={p99:F0} peer=n/a goal<={GoalP99Ms:F0} met={(p99 <= GoalP99Ms && n == started ? "yes" : "no")}");
        Console.WriteLine($"deactivation_after_ttl_deadline_{grains}_max_ms: ours={sorted[^1]:F0} peer=n/a");
    }
}
