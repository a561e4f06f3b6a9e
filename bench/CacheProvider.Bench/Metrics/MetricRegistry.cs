using CacheProvider.Bench.Harness;

namespace CacheProvider.Bench.Metrics;

/// <summary>
/// Every side-by-side metric, in run order. Add a class implementing <see cref="IMetric"/> (usually a
/// <see cref="CoreMetric"/>) and list it here.
/// </summary>
internal static class MetricRegistry
{
    /// <summary>Fresh instances: a metric holds connections and child processes for one run only.</summary>
    public static IReadOnlyList<Func<IMetric>> All { get; } =
    [
        () => new PublishMetric(),
        () => new RequestLatencyMetric(),
        () => new RequestInflightMetric(),
        () => new KvMetric("get", 256, 3000),
        () => new KvMetric("get", 1024, 3000),
        () => new KvMetric("put", 256, 3000),
        () => new KvMetric("put", 1024, 3000),
        () => new KvMetric("get-inflight", 256, 30_000),
        () => new KvMetric("get-inflight", 1024, 30_000),
        () => new KvMetric("put-inflight", 256, 30_000),
        () => new KvMetric("put-inflight", 1024, 30_000),
        () => new KvMetric("create-ttl", 256, 20_000),
        () => new KvMetric("watch-expiry", 256, 10_000),
        () => new CacheMetric("get-inflight"),
        () => new CacheMetric("tryget-inflight"),
        () => new CacheMetric("sliding"),
        () => new CacheMetric("near-hit"),
        () => new CacheMetric("invalidation"),
        () => new CacheMetric("expiry-events"),
        () => new FusionBackplaneMetric(),
        () => new RedisCacheMetric("get-inflight"),
        () => new RedisCacheMetric("set-inflight"),
        () => new RedisCacheMetric("get-sequential"),
        () => new RedisCacheMetric("sliding"),
        () => new RedisCacheMetric("sliding-sequential"),
        () => new RedisCacheMetric("remove-churn"),
        () => new RedisCacheMetric("hybrid-invalidation"),
        () => new HybridMetric("l1-hit"),
        () => new HybridMetric("l1-hit", invalidation: true),
        () => new HybridMetric("l2-read"),
        () => new HybridMetric("l2-read", invalidation: true),
        () => new HybridMetric("l2-sequential"),
        () => new HybridMetric("miss"),
        () => new HybridMetric("miss", invalidation: true),
        () => new HybridMetric("stale"),
        () => new SessionMetric(),
        () => new DedupeCostMetric(),
        () => new RecoveryMetric(),
        () => new RecoveryMetric(idempotent: false),
    ];

    /// <summary>Metrics whose name, or one of whose output names, contains <paramref name="filter"/> (all when null).</summary>
    public static IEnumerable<IMetric> Select(string? filter)
    {
        foreach (var create in All)
        {
            var metric = create();
            if (filter is null
                || metric.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)
                || metric.Outputs.Any(o => o.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)))
            {
                yield return metric;
            }
        }
    }
}
