using System.Text.Json.Serialization;

namespace CacheProvider.Nats.JetStream;

/// <summary>A stream's configuration and state.</summary>
public sealed record StreamInfo
{
    /// <summary>Configuration as the server holds it.</summary>
    [JsonPropertyName("config")] public required StreamConfig Config { get; init; }

    /// <summary>Current state.</summary>
    [JsonPropertyName("state")] public StreamState State { get; init; } = new();

    /// <summary>When the stream was created.</summary>
    [JsonPropertyName("created")] public DateTimeOffset Created { get; init; }

    /// <summary>Mirror replication status, for mirrors.</summary>
    [JsonPropertyName("mirror")] public StreamSourceInfo? Mirror { get; init; }

    /// <summary>Source replication status.</summary>
    [JsonPropertyName("sources")] public IReadOnlyList<StreamSourceInfo>? Sources { get; init; }

    /// <summary>Leader and replicas when JetStream is clustered; null on a single server.</summary>
    [JsonPropertyName("cluster")] public ClusterInfo? Cluster { get; init; }
}

/// <summary>Counters of a stream.</summary>
public sealed record StreamState
{
    /// <summary>Messages stored.</summary>
    [JsonPropertyName("messages")] public ulong Messages { get; init; }

    /// <summary>Bytes stored.</summary>
    [JsonPropertyName("bytes")] public ulong Bytes { get; init; }

    /// <summary>First sequence.</summary>
    [JsonPropertyName("first_seq")] public ulong FirstSeq { get; init; }

    /// <summary>Time of the first message.</summary>
    [JsonPropertyName("first_ts")] public DateTimeOffset FirstTime { get; init; }

    /// <summary>Last sequence.</summary>
    [JsonPropertyName("last_seq")] public ulong LastSeq { get; init; }

    /// <summary>Time of the last message.</summary>
    [JsonPropertyName("last_ts")] public DateTimeOffset LastTime { get; init; }

    /// <summary>Interior deleted messages (the "delete map" the server rebuilds on restart).</summary>
    [JsonPropertyName("num_deleted")] public long NumDeleted { get; init; }

    /// <summary>Distinct subjects.</summary>
    [JsonPropertyName("num_subjects")] public long NumSubjects { get; init; }

    /// <summary>Consumers.</summary>
    [JsonPropertyName("consumer_count")] public int ConsumerCount { get; init; }
}

/// <summary>Replication state of a mirror or source.</summary>
public sealed record StreamSourceInfo
{
    /// <summary>Origin stream.</summary>
    [JsonPropertyName("name")] public string Name { get; init; } = string.Empty;

    /// <summary>Messages behind the origin.</summary>
    [JsonPropertyName("lag")] public ulong Lag { get; init; }

    /// <summary>Nanoseconds since the origin was last heard from; -1 never.</summary>
    [JsonPropertyName("active")] public long ActiveNanos { get; init; }
}
