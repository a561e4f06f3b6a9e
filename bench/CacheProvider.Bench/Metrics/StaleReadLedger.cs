using System.Diagnostics;

namespace CacheProvider.Bench.Metrics;

/// <summary>
/// Bookkeeping of the two-node stale-read run, judged after the run. Node A writes 1, 2, 3, … to each key, one Set at a
/// time per key; node B reads. A read is stale when it returns a value older than the newest change that counted as
/// delivered before the read started: for ours, a change B's invalidator had applied; for a peer without invalidation,
/// a Set of A that had returned. B's watch may skip a revision that the next one replaced before delivery (history 1),
/// so an applied change is mapped to its value through the revision each Set was stored at, not by counting changes.
/// </summary>
internal sealed class StaleReadLedger
{
    private readonly Dictionary<ulong, long>[] _valueOf;
    private readonly long[][] _setReturnedAt;
    private readonly List<(int Key, ulong Revision, long Value, long At)> _delivered = [];
    private readonly (int Key, long Start, long Value)[] _reads;
    private int _readCount;

    public StaleReadLedger(int keys, int operations)
    {
        _valueOf = new Dictionary<ulong, long>[keys];
        _setReturnedAt = new long[keys][];
        for (var k = 0; k < keys; k++)
        {
            _valueOf[k] = [];
            _setReturnedAt[k] = new long[operations + 1];
        }

        _reads = new (int, long, long)[operations];
    }

    /// <summary>A's Set of <paramref name="value"/> returned at <paramref name="at"/>; it is stored at <paramref name="revision"/> (0: unknown).</summary>
    public void SetReturned(int key, long value, long at, ulong revision)
    {
        Volatile.Write(ref _setReturnedAt[key][value], at);
        if (revision != 0)
        {
            lock (_valueOf[key])
            {
                _valueOf[key][revision] = value;
            }
        }
    }

    /// <summary>B applied the change stored at <paramref name="revision"/> (ours).</summary>
    public void Applied(int key, ulong revision) => Deliver(key, revision, 0);

    /// <summary>The change carrying <paramref name="value"/> counts as delivered now (a peer without invalidation).</summary>
    public void Delivered(int key, long value) => Deliver(key, 0, value);

    /// <summary>A read of <paramref name="key"/> that started at <paramref name="start"/> returned <paramref name="value"/>.</summary>
    public void Read(int key, long start, long value) => _reads[Interlocked.Increment(ref _readCount) - 1] = (key, start, value);

    /// <summary>Stale reads, and for applied changes how long after A's Set returned B applied them (Stopwatch ticks).</summary>
    public (long Stale, long[] DeliveryTicks) Judge()
    {
        var delivered = new List<(int Key, long At, long Value)>(_delivered.Count);
        var ticks = new List<long>(_delivered.Count);
        foreach (var (key, revision, given, at) in _delivered)
        {
            var value = given;
            if (revision != 0 && !_valueOf[key].TryGetValue(revision, out value))
            {
                continue; // not one of A's Sets in this run
            }

            delivered.Add((key, at, value));
            if (revision != 0 && _setReturnedAt[key][value] is var returned and not 0)
            {
                ticks.Add(Math.Max(0, at - returned)); // B may apply a change before A's Set has its acknowledgement
            }
        }

        delivered.Sort((x, y) => x.At.CompareTo(y.At));
        var reads = _reads.AsSpan(0, _readCount).ToArray();
        Array.Sort(reads, (x, y) => x.Start.CompareTo(y.Start));

        // Sweep both in time order: the floor of a key is the newest value delivered before a read of it started.
        var floor = new long[_valueOf.Length];
        long stale = 0;
        var d = 0;
        foreach (var (key, start, value) in reads)
        {
            for (; d < delivered.Count && delivered[d].At < start; d++)
            {
                floor[delivered[d].Key] = Math.Max(floor[delivered[d].Key], delivered[d].Value);
            }

            if (value != 0 && value < floor[key])
            {
                stale++; // 0 is a miss (no value at all; HybridCache would ask its factory), never a stale value
            }
        }

        var sorted = ticks.ToArray();
        Array.Sort(sorted);
        return (stale, sorted);
    }

    private void Deliver(int key, ulong revision, long value)
    {
        var at = Stopwatch.GetTimestamp();
        lock (_delivered)
        {
            _delivered.Add((key, revision, value, at));
        }
    }
}
