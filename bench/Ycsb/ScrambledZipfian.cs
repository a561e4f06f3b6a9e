namespace CacheProvider.Bench.Ycsb;

/// <summary>
/// YCSB's request distribution "zipfian" (core workloads A and B): a Zipfian draw over [0, items) with constant θ
/// (0.99), after Gray et al., "Quickly Generating Billion-Record Synthetic Databases" (SIGMOD 1994), then scrambled
/// with FNV-1a 64 as YCSB's ScrambledZipfianGenerator does, so the hot keys are spread over the key space instead of
/// being the first ones. Not thread-safe: one per worker, each with its own <see cref="Random"/>.
/// </summary>
internal sealed class ScrambledZipfian
{
    private readonly long _items;
    private readonly double _theta;
    private readonly double _alpha;
    private readonly double _zetan;
    private readonly double _eta;
    private readonly Random _random;

    public ScrambledZipfian(long items, double theta, Random random, double? zetan = null)
    {
        _items = items;
        _theta = theta;
        _random = random;
        _zetan = zetan ?? Zeta(items, theta);
        var zeta2 = Zeta(2, theta);
        _alpha = 1.0 / (1.0 - theta);
        _eta = (1 - Math.Pow(2.0 / items, 1 - theta)) / (1 - (zeta2 / _zetan));
    }

    /// <summary>ζ(n, θ) = Σ 1/i^θ for i in 1..n: computed once and shared by the workers (it takes a moment for 100,000).</summary>
    public static double Zeta(long n, double theta)
    {
        var sum = 0.0;
        for (long i = 1; i <= n; i++)
        {
            sum += 1 / Math.Pow(i, theta);
        }

        return sum;
    }

    /// <summary>The next item, in [0, items).</summary>
    public long Next()
    {
        var u = _random.NextDouble();
        var uz = u * _zetan;
        long rank;
        if (uz < 1.0)
        {
            rank = 0;
        }
        else if (uz < 1.0 + Math.Pow(0.5, _theta))
        {
            rank = 1;
        }
        else
        {
            rank = (long)(_items * Math.Pow((_eta * u) - _eta + 1, _alpha));
        }

        return (long)(Fnv1a64((ulong)rank) % (ulong)_items);
    }

    private static ulong Fnv1a64(ulong value)
    {
        var hash = 0xCBF29CE484222325UL;
        for (var i = 0; i < 8; i++)
        {
            hash ^= value & 0xFF;
            hash *= 0x100000001B3UL;
            value >>= 8;
        }

        return hash;
    }
}
