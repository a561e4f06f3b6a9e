using System.Diagnostics;

namespace CacheProvider.Bench.Ycsb;

/// <summary>What one run of one configuration (two nodes) measured.</summary>
internal sealed record RunResult(
    double OpsPerSecond, double P50Micros, double P99Micros, long StaleReads, long Reads, long Errors, long Misses, double? InvalidationP99Micros, long StaleBeyondInvalidation);

/// <summary>
/// Judges a run from both nodes' logs. A read is stale when it returned a value although a later write of that key —
/// one that started after the returned value's write was acknowledged — had been acknowledged more than
/// <see cref="StaleAfter"/> before the read started (by either node: a node must not serve something older than what
/// it or the other node already had confirmed). The invalidation delay is, for each write, the time from its
/// acknowledgement to the other node's watch seeing a change of that key.
/// </summary>
internal static class Analysis
{
    public static readonly TimeSpan StaleAfter = TimeSpan.FromMilliseconds(5);

    public static RunResult Judge(NodeLog a, NodeLog b)
    {
        var ops = a.LatencyTicks.Count + b.LatencyTicks.Count;
        var seconds = Math.Max(a.Seconds, b.Seconds);
        var latencies = new long[ops];
        a.LatencyTicks.CopyTo(latencies);
        b.LatencyTicks.CopyTo(latencies, a.LatencyTicks.Count);
        Array.Sort(latencies);
        var staleAges = StaleAges(a, b);
        double? invalidation = a.Changes.Count + b.Changes.Count == 0 ? null : InvalidationP99(a, b);

        // Stale by more than the measured invalidation delay: what the invalidation itself cannot explain.
        var beyond = invalidation is { } p99 && !double.IsNaN(p99) ? staleAges.Count(age => Micros(age) > p99 + StaleAfter.TotalMicroseconds) : staleAges.Count;
        return new RunResult(
            ops / seconds,
            Micros(Percentile(latencies, 0.50)),
            Micros(Percentile(latencies, 0.99)),
            staleAges.Count,
            a.Reads.Count + b.Reads.Count,
            a.Errors + b.Errors,
            a.Misses + b.Misses,
            invalidation,
            beyond);
    }

    /// <summary>For each stale read, how long before it the newer write had been acknowledged (ticks).</summary>
    private static List<long> StaleAges(NodeLog a, NodeLog b)
    {
        var staleAfter = (long)(StaleAfter.TotalSeconds * Stopwatch.Frequency);
        var ack = new Dictionary<long, long>(a.Writes.Count + b.Writes.Count);
        var byKey = new Dictionary<int, List<WriteRecord>>();
        foreach (var w in a.Writes.Concat(b.Writes))
        {
            ack[w.Id] = w.AckTs;
            if (!byKey.TryGetValue(w.Key, out var list))
            {
                byKey[w.Key] = list = [];
            }

            list.Add(w);
        }

        // Per key: writes by start, and from each position the earliest acknowledgement among that write and later ones.
        var index = new Dictionary<int, (long[] Starts, long[] MinAckFrom)>(byKey.Count);
        foreach (var (key, list) in byKey)
        {
            list.Sort((x, y) => x.StartTs.CompareTo(y.StartTs));
            var starts = new long[list.Count];
            var minAck = new long[list.Count];
            var min = long.MaxValue;
            for (var i = list.Count - 1; i >= 0; i--)
            {
                starts[i] = list[i].StartTs;
                min = Math.Min(min, list[i].AckTs);
                minAck[i] = min;
            }

            index[key] = (starts, minAck);
        }

        var stale = new List<long>();
        foreach (var r in a.Reads.Concat(b.Reads))
        {
            if (r.Id < 0 || !index.TryGetValue(r.Key, out var writes))
            {
                continue;
            }

            // The preloaded value (id 0) was acknowledged before the run: every write of the run follows it.
            var returnedAck = r.Id == 0 ? long.MinValue : ack.GetValueOrDefault(r.Id, long.MaxValue);
            var first = UpperBound(writes.Starts, returnedAck);
            if (first < writes.Starts.Length && writes.MinAckFrom[first] < r.StartTs - staleAfter)
            {
                stale.Add(r.StartTs - writes.MinAckFrom[first]);
            }
        }

        return stale;
    }

    private static double InvalidationP99(NodeLog a, NodeLog b)
    {
        var delays = new List<long>();
        Collect(a.Writes, b.Changes, delays);
        Collect(b.Writes, a.Changes, delays);
        if (delays.Count == 0)
        {
            return double.NaN;
        }

        var sorted = delays.ToArray();
        Array.Sort(sorted);
        return Micros(Percentile(sorted, 0.99));
    }

    /// <summary>For each write, the first change of its key the other node saw after the write started.</summary>
    private static void Collect(List<WriteRecord> writes, List<ChangeRecord> otherChanges, List<long> delays)
    {
        var byKey = otherChanges.GroupBy(c => c.Key).ToDictionary(g => g.Key, g => g.Select(c => c.Ts).Order().ToArray());
        foreach (var w in writes)
        {
            if (w.AckTs == 0 || !byKey.TryGetValue(w.Key, out var seen))
            {
                continue;
            }

            var i = UpperBound(seen, w.StartTs - 1);
            if (i < seen.Length)
            {
                delays.Add(Math.Max(0, seen[i] - w.AckTs));
            }
        }
    }

    /// <summary>The first index whose value is greater than <paramref name="value"/>.</summary>
    private static int UpperBound(long[] sorted, long value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (sorted[mid] <= value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private static long Percentile(long[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(sorted.Length * p) - 1, 0, sorted.Length - 1)];

    private static double Micros(long ticks) => ticks * 1e6 / Stopwatch.Frequency;
}
