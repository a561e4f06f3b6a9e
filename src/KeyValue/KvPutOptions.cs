using NATS.Client.Core;

namespace CacheProvider.KeyValue;

/// <summary>Options of a write that carries its own headers (metadata other clients can read too).</summary>
public sealed record KvPutOptions
{
    /// <summary>Per-key TTL (≥ 1 s, rounded up to whole seconds; <see cref="Timeout.InfiniteTimeSpan"/> = never).</summary>
    public TimeSpan? Ttl { get; init; }

    /// <summary>Write only if the key is at this revision (0 = only if it has never been written or holds no message).</summary>
    public ulong? ExpectedRevision { get; init; }

    /// <summary>
    /// <c>Nats-Msg-Id</c>: the stream stores a message with this id at most once within its duplicate window
    /// (2 min for buckets this client creates). With it, a write that got no acknowledgement (leader election,
    /// lost connection) is repeated until acknowledged; a repeat of a stored write is acknowledged as a duplicate
    /// with the original revision. Use a fresh id per logical write (e.g. a GUID).
    /// </summary>
    public string? MsgId { get; init; }

    /// <summary>
    /// How long a write keeps retrying when it certainly was not stored (no responders, 503) or, with
    /// <see cref="MsgId"/> or <see cref="ExpectedRevision"/>, when its outcome is unknown. Zero: one attempt. Default 10 s.
    /// </summary>
    public TimeSpan RetryBudget { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Extra headers stored with the value. Names starting with <c>Nats-</c> or <c>KV-</c> are reserved.</summary>
    public NatsHeaders? Headers { get; init; }
}
