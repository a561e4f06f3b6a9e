namespace CacheProvider.Nats.JetStream;

/// <summary>
/// A JetStream write got no acknowledgement (timeout or lost connection, e.g. during a leader election): it may or
/// may not have been stored. Writes either return an acknowledgement (committed), throw
/// <see cref="JetStreamApiException"/> (rejected: nothing was stored) or throw this (unknown). Read the key from the
/// leader to find out, or repeat the write with the same <c>Nats-Msg-Id</c> inside the duplicate window, which stores
/// it at most once.
/// </summary>
public sealed class JetStreamWriteOutcomeUnknownException : NatsException
{
    /// <summary>Creates the exception.</summary>
    public JetStreamWriteOutcomeUnknownException(string subject, int attempts, Exception? inner)
        : base($"Write to \"{subject}\" was not acknowledged after {attempts} attempt(s): it may or may not have been stored", inner)
    {
        Subject = subject;
        Attempts = attempts;
    }

    /// <summary>The subject written to.</summary>
    public string Subject { get; }

    /// <summary>Attempts made.</summary>
    public int Attempts { get; }
}
