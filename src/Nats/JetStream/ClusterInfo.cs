using System.Text.Json.Serialization;

namespace CacheProvider.Nats.JetStream;

/// <summary>Where a replicated stream lives: its Raft group's cluster, current leader and other replicas.</summary>
public sealed record ClusterInfo
{
    /// <summary>Cluster name.</summary>
    [JsonPropertyName("name")] public string? Name { get; init; }

    /// <summary><c>server_name</c> of the current leader; null while an election is under way.</summary>
    [JsonPropertyName("leader")] public string? Leader { get; init; }

    /// <summary>The other replicas (the leader is not listed).</summary>
    [JsonPropertyName("replicas")] public IReadOnlyList<PeerInfo>? Replicas { get; init; }
}

/// <summary>One non-leader replica of a stream, as the leader sees it.</summary>
public sealed record PeerInfo
{
    /// <summary><c>server_name</c> of the replica.</summary>
    [JsonPropertyName("name")] public string Name { get; init; } = string.Empty;

    /// <summary>Whether it is caught up with the leader.</summary>
    [JsonPropertyName("current")] public bool Current { get; init; }

    /// <summary>Whether it is unreachable.</summary>
    [JsonPropertyName("offline")] public bool Offline { get; init; }

    /// <summary>Raft entries behind the leader.</summary>
    [JsonPropertyName("lag")] public ulong Lag { get; init; }
}
