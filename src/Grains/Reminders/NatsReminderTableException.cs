using Orleans;

namespace CacheProvider.Grains;

/// <summary>
/// A reminder table operation failed in NATS. Like <see cref="NatsGrainStorageException"/>, it carries the NATS
/// exception's type and message as text (Orleans cannot serialize NATS.Net's exception types); the table logs the original.
/// </summary>
[GenerateSerializer]
public sealed class NatsReminderTableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public NatsReminderTableException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public NatsReminderTableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception (keep <paramref name="inner"/> to exceptions Orleans can serialize).</summary>
    public NatsReminderTableException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
