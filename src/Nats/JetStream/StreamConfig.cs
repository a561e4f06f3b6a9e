using System.Text.Json.Serialization;
using CacheProvider.Nats.JetStream.Internal;

namespace CacheProvider.Nats.JetStream;

/// <summary>Stream configuration as the JetStream API takes it. Durations are sent as nanoseconds.</summary>
public sealed record StreamConfig
{
    /// <summary>Stream name.</summary>
    [JsonPropertyName("name")] public required string Name { get; init; }

    /// <summary>Description.</summary>
    [JsonPropertyName("description")] public string? Description { get; init; }

    /// <summary>Subjects the stream stores; none for a mirror.</summary>
    [JsonPropertyName("subjects")] public IReadOnlyList<string>? Subjects { get; init; }

    /// <summary><c>limits</c>, <c>interest</c> or <c>workqueue</c>.</summary>
    [JsonPropertyName("retention")] public string Retention { get; init; } = "limits";

    /// <summary>Maximum consumers; -1 unlimited.</summary>
    [JsonPropertyName("max_consumers")] public long MaxConsumers { get; init; } = -1;

    /// <summary>Maximum messages; -1 unlimited.</summary>
    [JsonPropertyName("max_msgs")] public long MaxMsgs { get; init; } = -1;

    /// <summary>Maximum bytes; -1 unlimited.</summary>
    [JsonPropertyName("max_bytes")] public long MaxBytes { get; init; } = -1;

    /// <summary>Maximum age of messages; zero = unlimited.</summary>
    [JsonPropertyName("max_age"), JsonConverter(typeof(NanosecondsConverter))] public TimeSpan MaxAge { get; init; }

    /// <summary>Messages kept per subject (KV history); -1 unlimited.</summary>
    [JsonPropertyName("max_msgs_per_subject")] public long MaxMsgsPerSubject { get; init; } = -1;

    /// <summary>Largest message (headers count); -1 unlimited.</summary>
    [JsonPropertyName("max_msg_size")] public int MaxMsgSize { get; init; } = -1;

    /// <summary><c>old</c> or <c>new</c>: what to discard when a limit is hit.</summary>
    [JsonPropertyName("discard")] public string Discard { get; init; } = "old";

    /// <summary><c>file</c> or <c>memory</c>.</summary>
    [JsonPropertyName("storage")] public string Storage { get; init; } = "file";

    /// <summary>Replicas.</summary>
    [JsonPropertyName("num_replicas")] public int Replicas { get; init; } = 1;

    /// <summary>Window for <c>Nats-Msg-Id</c> de-duplication.</summary>
    [JsonPropertyName("duplicate_window"), JsonConverter(typeof(NanosecondsConverter))] public TimeSpan DuplicateWindow { get; init; }

    /// <summary>Whether direct get is allowed.</summary>
    [JsonPropertyName("allow_direct")] public bool AllowDirect { get; init; }

    /// <summary>Whether a mirror answers direct gets for its origin.</summary>
    [JsonPropertyName("mirror_direct")] public bool MirrorDirect { get; init; }

    /// <summary>Whether <c>Nats-Rollup</c> headers are honoured.</summary>
    [JsonPropertyName("allow_rollup_hdrs")] public bool AllowRollup { get; init; }

    /// <summary>Whether deleting messages is forbidden.</summary>
    [JsonPropertyName("deny_delete")] public bool DenyDelete { get; init; }

    /// <summary>Whether purging is forbidden.</summary>
    [JsonPropertyName("deny_purge")] public bool DenyPurge { get; init; }

    /// <summary>Whether per-message TTL (<c>Nats-TTL</c>) is allowed. Cannot be switched off once on.</summary>
    [JsonPropertyName("allow_msg_ttl")] public bool AllowMsgTtl { get; init; }

    /// <summary>
    /// Lifetime of the limit markers the server writes when a subject's last message expires (ADR-48);
    /// zero = no markers. At least 1 s; forbidden on mirrors.
    /// </summary>
    [JsonPropertyName("subject_delete_marker_ttl"), JsonConverter(typeof(NanosecondsConverter))] public TimeSpan SubjectDeleteMarkerTtl { get; init; }

    /// <summary><c>none</c> or <c>s2</c>.</summary>
    [JsonPropertyName("compression")] public string? Compression { get; init; }

    /// <summary>Mirror source: the stream is a read-only copy of another.</summary>
    [JsonPropertyName("mirror")] public StreamSource? Mirror { get; init; }

    /// <summary>Streams this one sources from.</summary>
    [JsonPropertyName("sources")] public IReadOnlyList<StreamSource>? Sources { get; init; }

    /// <summary>Free-form metadata.</summary>
    [JsonPropertyName("metadata")] public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>Whether the stream is sealed.</summary>
    [JsonPropertyName("sealed")] public bool Sealed { get; init; }
}

/// <summary>A mirror or source of a stream.</summary>
public sealed record StreamSource
{
    /// <summary>Origin stream name.</summary>
    [JsonPropertyName("name")] public required string Name { get; init; }

    /// <summary>Only messages with this subject.</summary>
    [JsonPropertyName("filter_subject")] public string? FilterSubject { get; init; }

    /// <summary>Start at this origin sequence.</summary>
    [JsonPropertyName("opt_start_seq")] public ulong? OptStartSeq { get; init; }

    /// <summary>JetStream domain/API prefix of the origin, when it is elsewhere.</summary>
    [JsonPropertyName("external")] public ExternalStream? External { get; init; }

    /// <summary>Subject rewrites applied to sourced messages (server 2.10+); not allowed on a mirror's source.</summary>
    [JsonPropertyName("subject_transforms")] public IReadOnlyList<SubjectTransform>? SubjectTransforms { get; init; }
}

/// <summary>A subject rewrite: messages matching <see cref="Source"/> are stored under <see cref="Destination"/>.</summary>
public sealed record SubjectTransform
{
    /// <summary>Subject filter to rewrite, e.g. <c>$KV.origin.&gt;</c>.</summary>
    [JsonPropertyName("src")] public required string Source { get; init; }

    /// <summary>Destination pattern, e.g. <c>$KV.copy.&gt;</c>.</summary>
    [JsonPropertyName("dest")] public required string Destination { get; init; }
}

/// <summary>Where to find an origin stream in another domain or account.</summary>
public sealed record ExternalStream
{
    /// <summary>API prefix, e.g. <c>$JS.hub.API</c>.</summary>
    [JsonPropertyName("api")] public required string Api { get; init; }

    /// <summary>Deliver prefix.</summary>
    [JsonPropertyName("deliver")] public string? Deliver { get; init; }
}
