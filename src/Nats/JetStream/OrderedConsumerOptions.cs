namespace CacheProvider.Nats.JetStream;

/// <summary>Where an ordered consumer starts.</summary>
public enum DeliverPolicy
{
    /// <summary>Every message in the stream.</summary>
    All,

    /// <summary>The newest message of each filtered subject (KV "current values").</summary>
    LastPerSubject,

    /// <summary>Only messages stored after the consumer was created.</summary>
    New,

    /// <summary>From <see cref="OrderedConsumerOptions.StartSequence"/> on.</summary>
    ByStartSequence,
}

/// <summary>Settings of an <see cref="OrderedConsumer"/>.</summary>
public sealed record OrderedConsumerOptions
{
    /// <summary>Subjects to deliver (wildcards allowed); empty = the whole stream.</summary>
    public IReadOnlyList<string>? FilterSubjects { get; init; }

    /// <summary>Where to start.</summary>
    public DeliverPolicy DeliverPolicy { get; init; } = DeliverPolicy.All;

    /// <summary>Start sequence for <see cref="DeliverPolicy.ByStartSequence"/>.</summary>
    public ulong StartSequence { get; init; }

    /// <summary>Deliver headers only (payload size in <c>Nats-Msg-Size</c>).</summary>
    public bool HeadersOnly { get; init; }

    /// <summary>Server heartbeat interval while idle; three missed heartbeats recreate the consumer.</summary>
    public TimeSpan IdleHeartbeat { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>A message delivered by a consumer, with its stream metadata.</summary>
public readonly struct JetStreamMsg
{
    internal JetStreamMsg(NatsMsg msg, ulong streamSequence, ulong consumerSequence, DateTimeOffset timestamp, ulong pending)
    {
        Msg = msg;
        StreamSequence = streamSequence;
        ConsumerSequence = consumerSequence;
        Timestamp = timestamp;
        Pending = pending;
    }

    /// <summary>The message (subject, headers, payload).</summary>
    public NatsMsg Msg { get; }

    /// <summary>Stream sequence (KV revision).</summary>
    public ulong StreamSequence { get; }

    /// <summary>Consumer sequence.</summary>
    public ulong ConsumerSequence { get; }

    /// <summary>When the server stored the message.</summary>
    public DateTimeOffset Timestamp { get; }

    /// <summary>Messages still pending for the consumer after this one (0 = caught up).</summary>
    public ulong Pending { get; }
}
