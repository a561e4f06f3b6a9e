using System.Text.Json.Serialization;

namespace CacheProvider.Nats.JetStream.Internal;

/// <summary>The <c>error</c> member every JetStream API response may carry.</summary>
internal sealed record ApiError
{
    [JsonPropertyName("code")] public int Code { get; init; }
    [JsonPropertyName("err_code")] public int ErrCode { get; init; }
    [JsonPropertyName("description")] public string Description { get; init; } = string.Empty;
}

internal record ApiResponse
{
    [JsonPropertyName("error")] public ApiError? Error { get; init; }
}

internal sealed record StreamInfoResponse : ApiResponse
{
    [JsonPropertyName("config")] public StreamConfig? Config { get; init; }
    [JsonPropertyName("state")] public StreamState State { get; init; } = new();
    [JsonPropertyName("created")] public DateTimeOffset Created { get; init; }
    [JsonPropertyName("mirror")] public StreamSourceInfo? Mirror { get; init; }
    [JsonPropertyName("sources")] public IReadOnlyList<StreamSourceInfo>? Sources { get; init; }
    [JsonPropertyName("cluster")] public ClusterInfo? Cluster { get; init; }
}

internal sealed record ApiInfoResponse : ApiResponse
{
    [JsonPropertyName("memory")] public ulong Memory { get; init; }
    [JsonPropertyName("storage")] public ulong Storage { get; init; }
    [JsonPropertyName("streams")] public int Streams { get; init; }
    [JsonPropertyName("consumers")] public int Consumers { get; init; }
    [JsonPropertyName("limits")] public JetStreamLimits Limits { get; init; } = new();
    [JsonPropertyName("api")] public JetStreamApiStats Api { get; init; } = new();
}

internal sealed record SuccessResponse : ApiResponse
{
    [JsonPropertyName("success")] public bool Success { get; init; }
    [JsonPropertyName("purged")] public ulong Purged { get; init; }
}

internal sealed record PubAckResponse : ApiResponse
{
    [JsonPropertyName("stream")] public string Stream { get; init; } = string.Empty;
    [JsonPropertyName("seq")] public ulong Seq { get; init; }
    [JsonPropertyName("duplicate")] public bool Duplicate { get; init; }
}

internal sealed record PurgeRequest
{
    [JsonPropertyName("filter")] public string? Filter { get; init; }
    [JsonPropertyName("seq")] public ulong? Seq { get; init; }
    [JsonPropertyName("keep")] public ulong? Keep { get; init; }
}

internal sealed record StreamNamesRequest
{
    [JsonPropertyName("subject")] public string? Subject { get; init; }
    [JsonPropertyName("offset")] public int Offset { get; init; }
}

internal sealed record StreamNamesResponse : ApiResponse
{
    [JsonPropertyName("streams")] public IReadOnlyList<string>? Streams { get; init; }
    [JsonPropertyName("total")] public int Total { get; init; }
    [JsonPropertyName("offset")] public int Offset { get; init; }
    [JsonPropertyName("limit")] public int Limit { get; init; }
}

internal sealed record MsgGetRequest
{
    [JsonPropertyName("seq")] public ulong? Seq { get; init; }
    [JsonPropertyName("last_by_subj")] public string? LastBySubject { get; init; }
    [JsonPropertyName("next_by_subj")] public string? NextBySubject { get; init; }
}

internal sealed record DirectBatchRequest
{
    [JsonPropertyName("multi_last")] public IReadOnlyList<string>? MultiLast { get; init; }
    [JsonPropertyName("seq")] public ulong? Seq { get; init; }
    [JsonPropertyName("batch")] public int? Batch { get; init; }
    [JsonPropertyName("next_by_subj")] public string? NextBySubject { get; init; }
}

internal sealed record MsgGetResponse : ApiResponse
{
    [JsonPropertyName("message")] public StoredMsgJson? Message { get; init; }
}

internal sealed record StoredMsgJson
{
    [JsonPropertyName("subject")] public string Subject { get; init; } = string.Empty;
    [JsonPropertyName("seq")] public ulong Seq { get; init; }
    [JsonPropertyName("hdrs")] public byte[]? Headers { get; init; }
    [JsonPropertyName("data")] public byte[]? Data { get; init; }
    [JsonPropertyName("time")] public DateTimeOffset Time { get; init; }
}

internal sealed record ConsumerConfigJson
{
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("deliver_subject")] public string? DeliverSubject { get; init; }
    [JsonPropertyName("deliver_policy")] public string DeliverPolicy { get; init; } = "all";
    [JsonPropertyName("opt_start_seq")] public ulong? OptStartSeq { get; init; }
    [JsonPropertyName("ack_policy")] public string AckPolicy { get; init; } = "none";
    [JsonPropertyName("max_deliver")] public int MaxDeliver { get; init; } = 1;
    [JsonPropertyName("filter_subjects")] public IReadOnlyList<string>? FilterSubjects { get; init; }
    [JsonPropertyName("replay_policy")] public string ReplayPolicy { get; init; } = "instant";
    [JsonPropertyName("flow_control")] public bool FlowControl { get; init; }
    [JsonPropertyName("idle_heartbeat"), JsonConverter(typeof(NanosecondsConverter))] public TimeSpan IdleHeartbeat { get; init; }
    [JsonPropertyName("headers_only")] public bool HeadersOnly { get; init; }
    [JsonPropertyName("mem_storage")] public bool MemoryStorage { get; init; }
    [JsonPropertyName("num_replicas")] public int Replicas { get; init; }
    [JsonPropertyName("inactive_threshold"), JsonConverter(typeof(NanosecondsConverter))] public TimeSpan InactiveThreshold { get; init; }
}

internal sealed record ConsumerCreateRequest
{
    [JsonPropertyName("stream_name")] public required string StreamName { get; init; }
    [JsonPropertyName("config")] public required ConsumerConfigJson Config { get; init; }
}

internal sealed record ConsumerInfoResponse : ApiResponse
{
    [JsonPropertyName("name")] public string Name { get; init; } = string.Empty;
    [JsonPropertyName("num_pending")] public ulong NumPending { get; init; }
    [JsonPropertyName("delivered")] public SequenceInfoJson? Delivered { get; init; }
}

internal sealed record SequenceInfoJson
{
    [JsonPropertyName("consumer_seq")] public ulong ConsumerSeq { get; init; }
    [JsonPropertyName("stream_seq")] public ulong StreamSeq { get; init; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StreamConfig))]
[JsonSerializable(typeof(StreamInfoResponse))]
[JsonSerializable(typeof(ApiInfoResponse))]
[JsonSerializable(typeof(SuccessResponse))]
[JsonSerializable(typeof(PubAckResponse))]
[JsonSerializable(typeof(PurgeRequest))]
[JsonSerializable(typeof(StreamNamesRequest))]
[JsonSerializable(typeof(StreamNamesResponse))]
[JsonSerializable(typeof(MsgGetRequest))]
[JsonSerializable(typeof(DirectBatchRequest))]
[JsonSerializable(typeof(MsgGetResponse))]
[JsonSerializable(typeof(ConsumerCreateRequest))]
[JsonSerializable(typeof(ConsumerInfoResponse))]
internal sealed partial class JetStreamJson : JsonSerializerContext;
