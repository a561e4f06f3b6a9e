using NATS.Client.Core;
using NATS.Client.JetStream;

namespace CacheProvider.KeyValue;

/// <summary>Create failed because the key holds a value.</summary>
public sealed class KvKeyExistsException : NatsException
{
    /// <summary>Creates the exception.</summary>
    public KvKeyExistsException(string bucket, string key, ulong revision)
        : base($"Key '{key}' already exists in bucket '{bucket}' (revision {revision})")
    {
        Bucket = bucket;
        Key = key;
        Revision = revision;
    }

    /// <summary>Bucket.</summary>
    public string Bucket { get; }

    /// <summary>Key.</summary>
    public string Key { get; }

    /// <summary>The revision of the existing value.</summary>
    public ulong Revision { get; }
}

/// <summary>An update or delete with an expected revision lost the race: the key changed meanwhile.</summary>
public sealed class KvWrongRevisionException : NatsException
{
    /// <summary>Creates the exception.</summary>
    public KvWrongRevisionException(string bucket, string key, ulong expected, NatsJSApiException inner)
        : base($"Key '{key}' in bucket '{bucket}' is not at revision {expected}: {inner?.Error.Description}", inner!)
    {
        Bucket = bucket;
        Key = key;
        ExpectedRevision = expected;
    }

    /// <summary>Bucket.</summary>
    public string Bucket { get; }

    /// <summary>Key.</summary>
    public string Key { get; }

    /// <summary>The revision the caller expected.</summary>
    public ulong ExpectedRevision { get; }
}

/// <summary>A value is larger than the bucket or server allows (checked before sending).</summary>
public sealed class KvValueTooLargeException : NatsException
{
    /// <summary>Creates the exception.</summary>
    public KvValueTooLargeException(string bucket, long size, long limit, string what)
        : base($"Value of {size} bytes exceeds {what} of {limit} bytes for bucket '{bucket}'")
    {
        Bucket = bucket;
        Size = size;
        Limit = limit;
    }

    /// <summary>Bucket.</summary>
    public string Bucket { get; }

    /// <summary>Value size (with headers where the limit counts them).</summary>
    public long Size { get; }

    /// <summary>The limit.</summary>
    public long Limit { get; }
}

/// <summary>
/// A KV write got no acknowledgement (timeout or lost connection, e.g. during a leader election): it may or may not
/// have been stored. Writes either return a revision (committed), throw <see cref="NatsJSApiException"/> or another
/// KV exception (rejected: nothing was stored) or throw this (unknown). Read the key from the leader to find out, or
/// repeat the write with the same <see cref="KvPutOptions.MsgId"/> inside the duplicate window, which stores it at
/// most once.
/// </summary>
public sealed class KvWriteOutcomeUnknownException : NatsException
{
    /// <summary>Creates the exception.</summary>
    public KvWriteOutcomeUnknownException(string subject, int attempts, Exception? inner)
        : base($"Write to \"{subject}\" was not acknowledged after {attempts} attempt(s): it may or may not have been stored", inner!)
    {
        Subject = subject;
        Attempts = attempts;
    }

    /// <summary>The subject written to.</summary>
    public string Subject { get; }

    /// <summary>Attempts made.</summary>
    public int Attempts { get; }
}

/// <summary>A request to the server got no reply in time.</summary>
public sealed class KvTimeoutException : NatsException
{
    /// <summary>Creates the exception.</summary>
    public KvTimeoutException(string subject, TimeSpan timeout)
        : base($"No reply to a request on \"{subject}\" within {timeout.TotalMilliseconds:0} ms")
    {
        Subject = subject;
        Timeout = timeout;
    }

    /// <summary>The request subject.</summary>
    public string Subject { get; }

    /// <summary>The timeout that ran out.</summary>
    public TimeSpan Timeout { get; }
}

/// <summary>
/// The server refused this connection's identity: wrong user/password, token, NKey or creds, or a TLS handshake that
/// failed (untrusted server certificate, missing or refused client certificate). Raised once; repeating the same
/// connect cannot succeed. The message names the server, never the secret.
/// </summary>
public sealed class KvAuthenticationException : NatsException
{
    /// <summary>Creates the exception.</summary>
    public KvAuthenticationException(string server, string reason, Exception inner)
        : base($"{server} refused the connection: {reason}", inner)
    {
        Server = server;
        Reason = reason;
    }

    /// <summary>The server URL (without user info).</summary>
    public string Server { get; }

    /// <summary>What was refused, as the server or the TLS layer said it.</summary>
    public string Reason { get; }
}

/// <summary>
/// An atomic batch could not be committed within the write retry budget because the server kept answering "try again"
/// (<see cref="JetStreamErrorCodes.WrongLastSequenceUnavailable"/> after a leader change,
/// <see cref="JetStreamErrorCodes.TooManyInflightBatches"/>, or no stream leader): nothing was stored.
/// </summary>
public sealed class KvAtomicBatchUnavailableException : NatsException
{
    /// <summary>Creates the exception.</summary>
    public KvAtomicBatchUnavailableException(string bucket, int attempts, Exception inner)
        : base($"Atomic batch on bucket '{bucket}' was not accepted after {attempts} attempt(s) (the server asked to retry; nothing was stored): {inner.Message}", inner)
    {
        Bucket = bucket;
        Attempts = attempts;
    }

    /// <summary>The bucket.</summary>
    public string Bucket { get; }

    /// <summary>Attempts made.</summary>
    public int Attempts { get; }
}

/// <summary>
/// A batch read (<c>multi_last</c> direct get) matched more keys than the server returns in one reply (1024, tombstones
/// and markers included): the server answered <c>413 Too Many Results</c>. Narrow the filter or remove keys.
/// </summary>
public sealed class KvTooManyResultsException : NatsException
{
    /// <summary>Creates the exception.</summary>
    public KvTooManyResultsException(string bucket, string filter, int limit)
        : base($"More than {limit} keys of bucket '{bucket}' match '{filter}' (tombstones and expiry markers count): the server refuses to return them in one consistent read (413 Too Many Results)")
    {
        Bucket = bucket;
        Filter = filter;
        Limit = limit;
    }

    /// <summary>The bucket.</summary>
    public string Bucket { get; }

    /// <summary>The key filter(s) read.</summary>
    public string Filter { get; }

    /// <summary>Most keys one read may return.</summary>
    public int Limit { get; }
}
