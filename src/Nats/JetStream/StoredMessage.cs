namespace CacheProvider.Nats.JetStream;

/// <summary>A message read from a stream (direct get or leader get).</summary>
public sealed record StoredMessage
{
    /// <summary>Subject.</summary>
    public required string Subject { get; init; }

    /// <summary>Stream sequence.</summary>
    public ulong Sequence { get; init; }

    /// <summary>When the server stored it.</summary>
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>Stored headers (for direct gets also the server's Nats-Stream/-Subject/-Sequence/-Time-Stamp).</summary>
    public NatsHeaders? Headers { get; init; }

    /// <summary>Payload.</summary>
    public ReadOnlyMemory<byte> Data { get; init; }

    /// <summary>The stream that answered (direct gets can be answered by a mirror).</summary>
    public string? Stream { get; init; }
}
