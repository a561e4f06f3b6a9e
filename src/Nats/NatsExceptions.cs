namespace CacheProvider.Nats;

/// <summary>Base type of every error raised by the NATS client.</summary>
public class NatsException : Exception
{
    /// <summary>Creates an exception with a message.</summary>
    public NatsException(string message) : base(message) { }

    /// <summary>Creates an exception with a message and the error that caused it.</summary>
    public NatsException(string message, Exception? inner) : base(message, inner) { }
}

/// <summary>The connection could not be established, or was lost while an operation depended on it.</summary>
public class NatsConnectionException : NatsException
{
    /// <summary>Creates the exception.</summary>
    public NatsConnectionException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>
/// The server rejected the credentials (<c>Authorization Violation</c>) or the TLS handshake failed
/// authentication. On the first connect it is raised at once, without a retry loop: retrying the same credentials
/// cannot succeed. While reconnecting, a server that refuses them twice in a row is dropped from the rotation;
/// when every server left has done so, the connection closes with this exception (pending requests,
/// subscriptions, the <c>Closed</c> event and later callers all see it).
/// </summary>
public sealed class NatsAuthorizationException : NatsConnectionException
{
    /// <summary>Creates the exception.</summary>
    public NatsAuthorizationException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>
/// The server refused one publish or subscription because the user lacks permission for the subject.
/// The connection stays up; only the operation on that subject fails.
/// </summary>
public sealed class NatsPermissionException : NatsException
{
    /// <summary>Creates the exception.</summary>
    public NatsPermissionException(string operation, string subject)
        : base($"Permissions violation for {operation} to \"{subject}\"")
    {
        Operation = operation;
        Subject = subject;
    }

    /// <summary><c>Publish</c> or <c>Subscription</c>, as the server reported it.</summary>
    public string Operation { get; }

    /// <summary>The subject the server refused.</summary>
    public string Subject { get; }
}

/// <summary>A request got no reply in time.</summary>
public sealed class NatsTimeoutException : NatsException
{
    /// <summary>Creates the exception.</summary>
    public NatsTimeoutException(string subject, TimeSpan timeout)
        : base($"No reply on \"{subject}\" within {timeout.TotalMilliseconds:0} ms")
    {
        Subject = subject;
        Timeout = timeout;
    }

    /// <summary>The request subject.</summary>
    public string Subject { get; }

    /// <summary>The timeout that elapsed.</summary>
    public TimeSpan Timeout { get; }
}

/// <summary>Nobody is subscribed to the request subject (the server answered with status 503).</summary>
public sealed class NatsNoRespondersException : NatsException
{
    /// <summary>Creates the exception.</summary>
    public NatsNoRespondersException(string subject)
        : base($"No responders are listening on \"{subject}\"") => Subject = subject;

    /// <summary>The request subject.</summary>
    public string Subject { get; }
}

/// <summary>
/// A message (headers and payload together) is larger than the server's <c>max_payload</c>. Checked before
/// sending, because the server would close the whole connection on receiving it.
/// </summary>
public sealed class NatsPayloadTooLargeException : NatsException
{
    /// <summary>Creates the exception.</summary>
    public NatsPayloadTooLargeException(long size, long limit)
        : base($"Message of {size} bytes (headers and payload) exceeds the server's max_payload of {limit} bytes")
    {
        Size = size;
        Limit = limit;
    }

    /// <summary>The size of the rejected message in bytes.</summary>
    public long Size { get; }

    /// <summary>The limit it exceeded.</summary>
    public long Limit { get; }
}

/// <summary>The server sent something that is not valid NATS protocol; the connection is reset.</summary>
public sealed class NatsProtocolException : NatsException
{
    /// <summary>Creates the exception.</summary>
    public NatsProtocolException(string message) : base(message) { }
}

/// <summary>The server reported an error with <c>-ERR</c>.</summary>
public sealed class NatsServerErrorException : NatsException
{
    /// <summary>Creates the exception.</summary>
    public NatsServerErrorException(string serverMessage)
        : base($"Server error: {serverMessage}") => ServerMessage = serverMessage;

    /// <summary>The text after <c>-ERR</c>, without quotes.</summary>
    public string ServerMessage { get; }
}
