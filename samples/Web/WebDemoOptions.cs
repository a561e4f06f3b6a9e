namespace CacheProvider.Samples.Web;

/// <summary>How the sample web app runs.</summary>
public sealed class WebDemoOptions
{
    /// <summary>NATS server URL.</summary>
    public required string NatsUrl { get; init; }

    /// <summary>HTTP port on 127.0.0.1 (0 = any free port).</summary>
    public int Port { get; init; }

    /// <summary>Session idle timeout: short by default, so a visitor sees a session end (<c>--idle-seconds N</c>).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Heartbeat TTL of the board's devices: how long after its last heartbeat a device goes offline.</summary>
    public TimeSpan PresenceTtl { get; init; } = TimeSpan.FromSeconds(6);

    /// <summary>true: the stock DistributedSession over AddNatsDistributedCache; false: AddNatsSessionStore.</summary>
    public bool StockSessions { get; init; }

    /// <summary>
    /// With <see cref="StockSessions"/>: a StackExchange.Redis configuration (e.g. <c>127.0.0.1:6379</c>) to run the stock
    /// DistributedSession over Microsoft's RedisCache instead of our cache (the peer of the session benchmark).
    /// </summary>
    public string? StockRedisConfiguration { get; init; }

    /// <summary>The session store's near cache (<c>NatsSessionStoreOptions.NearCache</c>); off for measuring the read path alone.</summary>
    public bool SessionNearCache { get; init; } = true;

    /// <summary>
    /// The live board at <c>/</c> and its background work (seed keys, near-cache rounds, device heartbeats); off for
    /// measurements (the page then shows only its sessions part).
    /// </summary>
    public bool Board { get; init; } = true;

    /// <summary>Suffix of bucket names, so several instances can share a server.</summary>
    public string BucketSuffix { get; init; } = "";
}
