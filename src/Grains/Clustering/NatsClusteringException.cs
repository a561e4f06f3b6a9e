using Orleans;

namespace CacheProvider.Grains;

/// <summary>
/// A membership table, gateway list or grain directory operation failed in NATS, or its outcome is unknown (a commit
/// got no reply and a re-read could not tell whether it was stored). Like <see cref="NatsGrainStorageException"/>, it
/// carries the NATS exception's type and message as text (Orleans cannot serialize NATS.Net's exception types); the
/// provider logs the original.
/// </summary>
[GenerateSerializer]
public sealed class NatsClusteringException : Exception
{
    /// <summary>Creates the exception.</summary>
    public NatsClusteringException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public NatsClusteringException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception (keep <paramref name="inner"/> to exceptions Orleans can serialize).</summary>
    public NatsClusteringException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
