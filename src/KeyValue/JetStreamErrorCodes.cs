using NATS.Client.JetStream;

namespace CacheProvider.KeyValue;

/// <summary>JetStream <c>err_code</c> values (<see cref="NatsJSApiException"/>.<c>Error.ErrCode</c>) the KV layer names.</summary>
public static class JetStreamErrorCodes
{
    /// <summary>Wrong last sequence (optimistic concurrency failed).</summary>
    public const int WrongLastSequence = 10071;

    /// <summary>Wrong last sequence for the subject (clustered variant).</summary>
    public const int WrongLastSubjectSequence = 10164;

    /// <summary>A message with the same <c>Nats-Msg-Id</c> is still being replicated: its outcome is not known yet.</summary>
    public const int DuplicateMsgIdInProcess = 10158;

    /// <summary>Invalid per-message TTL.</summary>
    public const int InvalidTtl = 10165;

    /// <summary>Per-message TTL is disabled on the stream.</summary>
    public const int TtlDisabled = 10166;

    /// <summary>Invalid stream configuration.</summary>
    public const int InvalidConfig = 10052;

    /// <summary>Message larger than the stream allows.</summary>
    public const int MessageTooLarge = 10054;

    /// <summary>Stream (bucket) not found.</summary>
    public const int StreamNotFound = 10059;

    /// <summary>No message found.</summary>
    public const int NoMessageFound = 10037;

    /// <summary>Stream name already in use with a different configuration.</summary>
    public const int StreamNameInUse = 10058;

    /// <summary>Bad request (also a direct get's <c>408 Empty/Bad Request</c>).</summary>
    public const int BadRequest = 10003;

    /// <summary>Invalid JSON (also a direct get's <c>408 Malformed Request</c>).</summary>
    public const int InvalidJson = 10025;

    /// <summary>JetStream system temporarily unavailable.</summary>
    public const int ClusterNotAvailable = 10008;

    /// <summary>JetStream not enabled for the account.</summary>
    public const int NotEnabled = 10076;

    /// <summary>"Expected last sequence per subject temporarily unavailable" (after a leader change): nothing stored, retry.</summary>
    public const int WrongLastSequenceUnavailable = 10163;

    /// <summary>Atomic publish is disabled on the stream (<c>allow_atomic</c> off).</summary>
    public const int AtomicPublishDisabled = 10174;

    /// <summary>Atomic batch incomplete (a message is missing, or the batch was abandoned): nothing stored.</summary>
    public const int BatchIncomplete = 10176;

    /// <summary>Atomic batch larger than the server's <c>max_batch_size</c>.</summary>
    public const int BatchTooLarge = 10199;

    /// <summary>Too many atomic batches in flight on the stream or server: nothing stored, retry.</summary>
    public const int TooManyInflightBatches = 10210;
}
