namespace CacheProvider.Nats.JetStream;

/// <summary>Error codes (<c>err_code</c>) the client names; see <see cref="JetStreamApiException"/>.</summary>
public static class JetStreamErrorCode
{
    /// <summary>Wrong last sequence (optimistic concurrency failed).</summary>
    public const int WrongLastSequence = 10071;

    /// <summary>Wrong last sequence for the subject (clustered variant).</summary>
    public const int WrongLastSubjectSequence = 10164;

    /// <summary>
    /// A message with the same <c>Nats-Msg-Id</c> is still being replicated (clustered streams): the outcome of the
    /// first is not known yet; repeating the write with the same id later is safe.
    /// </summary>
    public const int DuplicateMsgIdInProcess = 10158;

    /// <summary>Invalid per-message TTL.</summary>
    public const int InvalidTtl = 10165;

    /// <summary>Per-message TTL is disabled on the stream.</summary>
    public const int TtlDisabled = 10166;

    /// <summary>Invalid stream configuration.</summary>
    public const int InvalidConfig = 10052;

    /// <summary>Message larger than the stream allows.</summary>
    public const int MessageTooLarge = 10054;

    /// <summary>Stream not found.</summary>
    public const int StreamNotFound = 10059;

    /// <summary>No message found.</summary>
    public const int NoMessageFound = 10037;

    /// <summary>Stream name already in use with a different configuration.</summary>
    public const int StreamNameInUse = 10058;

    /// <summary>Consumer not found.</summary>
    public const int ConsumerNotFound = 10014;

    /// <summary>JetStream not enabled.</summary>
    public const int NotEnabled = 10076;

    /// <summary>Bad request (conflicting or missing options; also a direct get's <c>408 Empty/Bad Request</c>).</summary>
    public const int BadRequest = 10003;

    /// <summary>Invalid JSON (also a direct get's <c>408 Malformed Request</c>).</summary>
    public const int InvalidJson = 10025;

    /// <summary>JetStream system temporarily unavailable.</summary>
    public const int ClusterNotAvailable = 10008;
}

/// <summary>The JetStream API answered with an error.</summary>
public class JetStreamApiException : NatsException
{
    /// <summary>Creates the exception.</summary>
    public JetStreamApiException(int code, int errorCode, string description)
        : base($"JetStream error {errorCode} ({code}): {description}")
    {
        Code = code;
        ErrorCode = errorCode;
        Description = description;
    }

    /// <summary>HTTP-like status (400, 404, 503…).</summary>
    public int Code { get; }

    /// <summary>The specific <c>err_code</c>; see <see cref="JetStreamErrorCode"/>.</summary>
    public int ErrorCode { get; }

    /// <summary>The server's description.</summary>
    public string Description { get; }

    /// <summary>
    /// The error of a direct get (<c>$JS.API.DIRECT.GET</c>), which the server reports as a status line
    /// (<c>408 Malformed Request</c>, <c>413 Too Many Subjects</c>…) without the <c>err_code</c> of the JSON API. The
    /// code is the one <c>STREAM.MSG.GET</c> gives for the same mistake, so callers match both reads alike.
    /// </summary>
    internal static JetStreamApiException FromDirectGetStatus(int status, string? description)
    {
        var errorCode = status switch
        {
            404 => JetStreamErrorCode.NoMessageFound,
            408 when string.Equals(description, "Malformed Request", StringComparison.OrdinalIgnoreCase) => JetStreamErrorCode.InvalidJson,
            >= 400 and < 500 => JetStreamErrorCode.BadRequest,
            503 => JetStreamErrorCode.ClusterNotAvailable,
            _ => 0,
        };
        var text = string.IsNullOrWhiteSpace(description) ? $"direct get failed with status {status}" : "direct get: " + description;
        return new JetStreamApiException(status, errorCode, text);
    }

    /// <summary>Optimistic concurrency failed (10071 or 10164).</summary>
    public bool IsWrongLastSequence => ErrorCode is JetStreamErrorCode.WrongLastSequence or JetStreamErrorCode.WrongLastSubjectSequence;
}
