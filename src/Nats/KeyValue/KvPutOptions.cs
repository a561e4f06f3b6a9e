namespace CacheProvider.Nats.KeyValue;

/// <summary>Options of a write that carries its own headers (metadata other clients can read too).</summary>
public sealed record KvPutOptions
{
    /// <summary>Per-key TTL (≥ 1 s, rounded up to whole seconds; <see cref="Timeout.InfiniteTimeSpan"/> = never).</summary>
    public TimeSpan? Ttl { get; init; }

    /// <summary>Write only if the key is at this revision (0 = only if it has never been written or holds no message).</summary>
    public ulong? ExpectedRevision { get; init; }

    /// <summary>Extra headers stored with the value. Names starting with <c>Nats-</c> or <c>KV-</c> are reserved.</summary>
    public NatsHeaders? Headers { get; init; }
}
