using System.Diagnostics;

namespace CacheProvider.Bench.Harness;

/// <summary>Latency samples in Stopwatch ticks, summarised exactly as js/bench/lib.mjs does (nearest rank).</summary>
internal static class Latency
{
    /// <summary>Nearest-rank percentile <paramref name="p"/> (0–100) of sorted samples, in microseconds.</summary>
    public static double PercentileMicros(ReadOnlySpan<long> sortedTicks, double p)
    {
        if (sortedTicks.IsEmpty)
        {
            return 0;
        }

        var rank = (int)Math.Ceiling(p / 100 * sortedTicks.Length) - 1;
        rank = Math.Clamp(rank, 0, sortedTicks.Length - 1);
        return sortedTicks[rank] * 1_000_000.0 / Stopwatch.Frequency;
    }
}
