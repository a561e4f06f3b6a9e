using System.ComponentModel.DataAnnotations;
using CacheProvider.KeyValue;

namespace CacheProvider.Caching;

/// <summary>Settings of <see cref="NatsDistributedCache"/>; bindable from configuration.</summary>
public sealed class NatsDistributedCacheOptions
{
    /// <summary>
    /// Key of a keyed <see cref="NATS.Client.Core.INatsConnection"/> (e.g. NATS.Net's
    /// <c>AddNatsClient(b =&gt; b.WithKey("name"))</c>) to use instead of the app's default connection.
    /// </summary>
    public string? ConnectionKey { get; set; }

    /// <summary>KV bucket holding the entries.</summary>
    [Required, RegularExpression("^[a-zA-Z0-9_-]+$", ErrorMessage = "Bucket names use letters, digits, _ and - only")]
    public string Bucket { get; set; } = "cache";

    /// <summary>Prefix of every key (like RedisCache's InstanceName), so several caches can share a bucket.</summary>
    [RegularExpression("^[-/_=a-zA-Z0-9]+$", ErrorMessage = "KeyPrefix uses letters, digits and - / _ = only")]
    public string? KeyPrefix { get; set; }

    /// <summary>Create the bucket when it does not exist (history 1, limit markers on, file storage).</summary>
    public bool CreateBucketIfMissing { get; set; } = true;

    /// <summary>Storage of a bucket this cache creates.</summary>
    public KvStorage Storage { get; set; } = KvStorage.File;

    /// <summary>Replicas of a bucket this cache creates (1, 3 or 5).</summary>
    [Range(1, 5)]
    public int Replicas { get; set; } = 1;

    /// <summary>How long expiry markers stay in a bucket this cache creates (≥ 1 s).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan LimitMarkerTtl { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Sliding renewal slack f: a sliding entry is stored with TTL = window × (1 + f) and rewritten on a read only
    /// when less than one window remains, so renewals happen at most once per f × window per key.
    /// </summary>
    [Range(0.05, 10.0)]
    public double SlidingRenewalFraction { get; set; } = 0.5;

    /// <summary>Lifetime of the purge tombstone a <c>Remove</c> leaves (it then removes itself: no permanent tombstone).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RemoveTombstoneTtl { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Read from the stream leader (read-your-writes on replicated buckets) instead of any replica.</summary>
    public bool ReadFromLeader { get; set; }

    /// <summary>
    /// Give every <c>Set</c> a unique <c>Nats-Msg-Id</c>, so a Set whose acknowledgement was lost (a dropped connection,
    /// a restarting server, a leader change) is sent again once the server answers and stored once, instead of failing
    /// with <see cref="CacheProvider.KeyValue.KvWriteOutcomeUnknownException"/>. On by default: measured (bench
    /// <c>dedupe</c>) its Set throughput is within noise of off (0.96–1.06×) and it costs ≈ 70–100 B of server memory
    /// per Set for the bucket's duplicate window (30 s for buckets this cache creates, 2 min otherwise) — ≈ 20–30 MB at a
    /// sustained 10,000 Sets/s. Turn it off for very high write rates where a failed Set may simply be retried by the caller.
    /// </summary>
    public bool IdempotentWrites { get; set; } = true;

    /// <summary>In-process near cache invalidated by a bucket watch. Off by default.</summary>
    public bool NearCacheEnabled { get; set; }

    /// <summary>Most entries the near cache holds.</summary>
    [Range(1, 10_000_000)]
    public int NearCacheMaxEntries { get; set; } = 10_000;

    /// <summary>Values larger than this are not kept in the near cache.</summary>
    [Range(1, int.MaxValue)]
    public int NearCacheMaxValueBytes { get; set; } = 64 * 1024;
}
