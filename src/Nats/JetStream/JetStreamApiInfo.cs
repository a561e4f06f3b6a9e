using System.Text.Json.Serialization;

namespace CacheProvider.Nats.JetStream;

/// <summary>The answer of <c>$JS.API.INFO</c>: account usage, limits and the server's API level.</summary>
public sealed record JetStreamApiInfo
{
    /// <summary>Memory used.</summary>
    [JsonPropertyName("memory")] public ulong Memory { get; init; }

    /// <summary>Storage used.</summary>
    [JsonPropertyName("storage")] public ulong Storage { get; init; }

    /// <summary>Streams.</summary>
    [JsonPropertyName("streams")] public int Streams { get; init; }

    /// <summary>Consumers.</summary>
    [JsonPropertyName("consumers")] public int Consumers { get; init; }

    /// <summary>Account limits.</summary>
    [JsonPropertyName("limits")] public JetStreamLimits Limits { get; init; } = new();

    /// <summary>API statistics and level.</summary>
    [JsonPropertyName("api")] public JetStreamApiStats Api { get; init; } = new();
}

/// <summary>Account limits; -1 = unlimited.</summary>
public sealed record JetStreamLimits
{
    /// <summary>Max memory.</summary>
    [JsonPropertyName("max_memory")] public long MaxMemory { get; init; }

    /// <summary>Max storage.</summary>
    [JsonPropertyName("max_storage")] public long MaxStorage { get; init; }

    /// <summary>Max streams.</summary>
    [JsonPropertyName("max_streams")] public long MaxStreams { get; init; }

    /// <summary>Max consumers.</summary>
    [JsonPropertyName("max_consumers")] public long MaxConsumers { get; init; }
}

/// <summary>API level (per-message TTL needs ≥ 1) and counters.</summary>
public sealed record JetStreamApiStats
{
    /// <summary>JetStream API level; 0 on servers before 2.11.</summary>
    [JsonPropertyName("level")] public int Level { get; init; }

    /// <summary>API calls.</summary>
    [JsonPropertyName("total")] public ulong Total { get; init; }

    /// <summary>API errors.</summary>
    [JsonPropertyName("errors")] public ulong Errors { get; init; }
}

/// <summary>The acknowledgement of a JetStream publish.</summary>
public sealed record PubAck
{
    /// <summary>Stream that stored the message.</summary>
    [JsonPropertyName("stream")] public string Stream { get; init; } = string.Empty;

    /// <summary>Its sequence (the KV revision).</summary>
    [JsonPropertyName("seq")] public ulong Seq { get; init; }

    /// <summary>Whether it was a duplicate (Nats-Msg-Id seen before).</summary>
    [JsonPropertyName("duplicate")] public bool Duplicate { get; init; }
}
