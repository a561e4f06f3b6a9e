using Orleans;

namespace CacheProvider.Grains;

/// <summary>
/// A grain storage operation failed in NATS (timeout, server error, value too large, connection lost). It crosses the
/// wire to the grain's caller, so it carries the NATS exception's type and message as text, not as an inner
/// exception: Orleans could not serialize the NATS client's exception types (the caller would get a
/// <c>CodecNotFoundException</c>). The provider logs the original exception.
/// </summary>
[GenerateSerializer]
public sealed class NatsGrainStorageException : Exception
{
    /// <summary>Creates the exception.</summary>
    public NatsGrainStorageException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public NatsGrainStorageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception (keep <paramref name="inner"/> to exceptions Orleans can serialize).</summary>
    public NatsGrainStorageException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
