using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CacheProvider.Caching.Internal;

/// <summary>Counters and spans of the cache (meter and activity source <c>CacheProvider.Caching</c>).</summary>
internal static class CacheMetrics
{
    public const string Name = "CacheProvider.Caching";
    public static readonly ActivitySource Source = new(Name);
    private static readonly Meter Meter = new(Name);
    private static readonly Counter<long> Hits = Meter.CreateCounter<long>("cache.hits", description: "Reads that returned a value (tag layer: near or remote)");
    private static readonly Counter<long> Misses = Meter.CreateCounter<long>("cache.misses", description: "Reads that returned nothing (tag reason)");
    private static readonly Counter<long> Sets = Meter.CreateCounter<long>("cache.sets");
    private static readonly Counter<long> Removes = Meter.CreateCounter<long>("cache.removes");
    private static readonly Counter<long> Renewals = Meter.CreateCounter<long>("cache.renewals", description: "Sliding-expiration rewrites");
    private static readonly Counter<long> Invalidations = Meter.CreateCounter<long>("cache.near.invalidations", description: "Near-cache entries dropped because the key changed elsewhere or expired");
    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("cache.operation.duration", unit: "ms");

    public static void Hit(bool near)
    {
        // Checked first: a near hit costs tens of nanoseconds, and building the tag list is a visible share of that.
        if (Hits.Enabled)
        {
            Hits.Add(1, new KeyValuePair<string, object?>("layer", near ? "near" : "remote"));
        }
    }

    public static void Miss(string reason) => Misses.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public static void Set() => Sets.Add(1);

    public static void Remove() => Removes.Add(1);

    public static void Renewal() => Renewals.Add(1);

    public static void Invalidation() => Invalidations.Add(1);

    public static void Elapsed(string operation, long startTimestamp)
    {
        if (Duration.Enabled)
        {
            Duration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds, new KeyValuePair<string, object?>("operation", operation));
        }
    }
}
