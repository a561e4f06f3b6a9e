using System.ComponentModel.DataAnnotations;
using CacheProvider.KeyValue;

namespace CacheProvider.Sessions;

/// <summary>Settings of <see cref="NatsSessionStore"/>; bindable from configuration.</summary>
public sealed class NatsSessionStoreOptions
{
    /// <summary>Key of a keyed NATS.Net <c>INatsConnection</c> to use instead of the app's default connection.</summary>
    public string? ConnectionKey { get; set; }

    /// <summary>KV bucket holding the sessions (created with history 1 and limit markers when missing).</summary>
    [Required, RegularExpression("^[a-zA-Z0-9_-]+$", ErrorMessage = "Bucket names use letters, digits, _ and - only")]
    public string Bucket { get; set; } = "sessions";

    /// <summary>First token of every session's KV key (<c>{KeyPrefix}.{sessionKey}</c>), so a bucket can be shared.</summary>
    [Required, RegularExpression("^[-_=a-zA-Z0-9]+$", ErrorMessage = "KeyPrefix uses letters, digits and - _ = only")]
    public string KeyPrefix { get; set; } = "session";

    /// <summary>Storage of a bucket this store creates.</summary>
    public KvStorage Storage { get; set; } = KvStorage.File;

    /// <summary>Replicas of a bucket this store creates (1, 3 or 5).</summary>
    [Range(1, 5)]
    public int Replicas { get; set; } = 1;

    /// <summary>How long expiry markers stay in a bucket this store creates (≥ 1 s).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan LimitMarkerTtl { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Idle renewal slack f (the cache's rule): a session is stored with TTL = IdleTimeout × (1 + f) and rewritten
    /// by an unchanged request only when less than one IdleTimeout remains, so most requests write nothing. A session
    /// therefore ends between IdleTimeout and IdleTimeout × (1 + f) after its last request.
    /// </summary>
    [Range(0.05, 10.0)]
    public double RenewalFraction { get; set; } = 0.5;

    /// <summary>Lifetime of the purge tombstone an ended (cleared or removed) session leaves.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RemoveTombstoneTtl { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often a commit that lost the revision race re-reads and re-applies its changes before failing.</summary>
    [Range(0, 100)]
    public int MaxConflictRetries { get; set; } = 5;

    /// <summary>
    /// Keep a copy of recently used sessions on this node, dropped by a bucket watch the moment any node changes,
    /// removes or the server expires them, so a request whose session nobody changed costs no round trip. The trade:
    /// a read can miss a write another node made less than one watch delivery earlier (without sticky sessions, two
    /// nodes serving the same session at the same moment); writes stay revision-checked either way. Off: every
    /// session load reads the server.
    /// </summary>
    public bool NearCache { get; set; } = true;

    /// <summary>Most sessions the near cache holds (least recently used are dropped first).</summary>
    [Range(1, 10_000_000)]
    public int NearCacheMaxEntries { get; set; } = 10_000;

    /// <summary>Larger stored sessions are not kept in the near cache.</summary>
    [Range(1, 64 * 1024 * 1024)]
    public int NearCacheMaxSessionBytes { get; set; } = 64 * 1024;
}
