namespace CacheProvider.Bench.Ycsb;

/// <summary>
/// A YCSB core workload as this bench runs it (Cooper et al., "Benchmarking Cloud Serving Systems with YCSB", SoCC
/// 2010; the core workloads' properties files in brianfrankcooper/YCSB workloads/): A = update heavy (50% read, 50%
/// update), B = read mostly (95% read, 5% update); both with Zipfian (θ 0.99) key choice. An update here is a cache
/// Set of the whole 1 KiB value (YCSB's update writes one field; a cache has no fields).
/// </summary>
internal sealed record Workload(string Name, double ReadProportion)
{
    public static readonly Workload A = new("a", 0.50);
    public static readonly Workload B = new("b", 0.95);

    public static Workload Parse(string name) => name.ToUpperInvariant() switch
    {
        "A" => A,
        "B" => B,
        _ => throw new ArgumentException($"unknown workload '{name}' (a or b)", nameof(name)),
    };
}

/// <summary>What one node process of a run measures through: each is a cache a web app would use.</summary>
internal enum StoreKind
{
    /// <summary>Microsoft's RedisCache (StackExchangeRedis) on Redis 8: the peer.</summary>
    Redis,

    /// <summary>HybridCache (L1 in process) over RedisCache: nothing tells node B when node A writes.</summary>
    HybridRedis,

    /// <summary>Our NatsDistributedCache, no near cache.</summary>
    Nats,

    /// <summary>Our NatsDistributedCache with its near cache (kept coherent by the bucket watch).</summary>
    NatsNear,

    /// <summary>HybridCache over our cache, with AddNatsHybridCacheInvalidation.</summary>
    HybridNats,
}

internal static class StoreKinds
{
    public static readonly StoreKind[] All = [StoreKind.Redis, StoreKind.HybridRedis, StoreKind.Nats, StoreKind.NatsNear, StoreKind.HybridNats];

    public static string Label(this StoreKind kind) => kind switch
    {
        StoreKind.Redis => "RedisCache",
        StoreKind.HybridRedis => "HybridCache over RedisCache",
        StoreKind.Nats => "NATS cache",
        StoreKind.NatsNear => "NATS cache + near cache",
        StoreKind.HybridNats => "HybridCache over NATS cache + invalidation",
        _ => kind.ToString(),
    };

    public static string Slug(this StoreKind kind) => kind switch
    {
        StoreKind.Redis => "redis",
        StoreKind.HybridRedis => "hybrid_redis",
        StoreKind.Nats => "nats",
        StoreKind.NatsNear => "nats_near",
        StoreKind.HybridNats => "hybrid_nats",
        _ => kind.ToString(),
    };

    /// <summary>Whether node B learns of node A's writes (so an invalidation delay can be measured).</summary>
    public static bool Invalidates(this StoreKind kind) => kind is StoreKind.NatsNear or StoreKind.HybridNats;
}
